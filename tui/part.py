"""The base of `CortexApp`'s parts (`UserActions`, `BusFeed`): the app to a type checker, a
plain object at run time, so each part reads the state the app keeps as its own."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from textual.app import App
    from textual.screen import Screen

    class AppPart(App[None]):
        main: Screen[None]
        """The conversation's screen (`CortexApp.main`)."""

else:
    AppPart = object
