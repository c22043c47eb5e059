"""One conversation turn: plan, dispatch, the streamed answer, records and logs."""
