"""The manager's logic: the parts of a request and the plan that gives them out."""
