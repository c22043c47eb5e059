"""`Resource`: something held open for the length of a ``with`` block."""

from __future__ import annotations

from typing import Self


class Resource:
    """Opened on entering a ``with`` block (`open`, nothing by default), closed on leaving it
    (`close`), whatever ended the block."""

    def open(self) -> Self:
        return self

    def close(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        return self.open()

    def __exit__(self, *exc_info: object) -> None:
        self.close()
