"""Page numbers from the query string (any text gives a page that exists in SQL, never a 500), and a page of
rows that a service read itself."""

from __future__ import annotations

from flask import request
from flask_sqlalchemy.pagination import Pagination

#: The highest page number asked of the database; far past any real list, far below bigint overflow.
MAX_PAGE = 100_000


def page_arg(args=None, name: str = "page") -> int:
    """Return the page number in `args` (default: the request's), clamped to 1..MAX_PAGE; bad text is 1."""
    raw = (request.args if args is None else args).get(name, "1")
    try:
        number = int(str(raw).strip())
    except (TypeError, ValueError):  # also digits beyond Python's int string limit
        return 1
    return max(1, min(number, MAX_PAGE))


class RowsPagination(Pagination):
    """A page whose rows and total the caller has already read: Flask-SQLAlchemy's Pagination (the same page
    numbers and links) without queries of its own. Build it with ``items=`` and ``total=`` keyword arguments."""

    def _query_items(self) -> list:
        return self._query_args["items"]

    def _query_count(self) -> int:
        return self._query_args["total"]


def rows_page(items: list, page: int, per_page: int, total: int) -> RowsPagination:
    """A RowsPagination of `items`, page `page` of `total` rows, `per_page` a page."""
    return RowsPagination(page=page, per_page=per_page, max_per_page=None, error_out=False, items=items, total=total)
