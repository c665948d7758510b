"""What the app accepts from a URL or a body before any view sees it.

Every id is an ``Integer`` column (32 bits on PostgreSQL): a larger number in a path or a query
string names nothing, so it is a 404 here rather than an overflow in the database driver. JSON
bodies nest at most ``MAX_JSON_DEPTH`` levels (the API's bodies are flat objects); deeper ones are
refused as unreadable (400) before Python's parser recurses into them.
"""
from flask import Request, abort, json
from werkzeug.datastructures import ImmutableMultiDict
from werkzeug.routing import IntegerConverter

INT32_MIN = -(2**31)
INT32_MAX = 2**31 - 1
MAX_JSON_DEPTH = 10


class IdConverter(IntegerConverter):
    """``<int:…>`` in every route: a number beyond an Integer column does not match (404)."""

    def __init__(self, map, *args, max=INT32_MAX, **kwargs):  # noqa: A002 - werkzeug's argument name
        super().__init__(map, *args, max=max, **kwargs)


class BoundedArgs(ImmutableMultiDict):
    """``request.args.get(name, type=int)`` (and ``request.form``) out of the Integer range is a 404:
    ``?page=9223372036854775807`` or ``?village=2147483648`` name nothing."""

    def get(self, key, default=None, type=None):  # noqa: A002 - werkzeug's argument name
        value = super().get(key, default, type)
        if type is int and isinstance(value, int) and not INT32_MIN <= value <= INT32_MAX:
            abort(404)
        return value


def nesting_depth(value) -> int:
    """How deeply lists and objects nest in parsed JSON, without recursion."""
    deepest, pending = 0, [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        deepest = max(deepest, depth)
        pending.extend((child, depth + 1) for child in item)
    return deepest


class BoundedJSON:
    """A request's JSON reader: the app's own, refusing (ValueError, hence 400) bodies nested deeper
    than MAX_JSON_DEPTH. Responses (and the test client reading them) are not limited."""

    def __init__(self, provider=json):
        self.provider = provider

    def dumps(self, obj, **kwargs):
        return self.provider.dumps(obj, **kwargs)

    def loads(self, s, **kwargs):
        try:
            value = self.provider.loads(s, **kwargs)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
        if nesting_depth(value) > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deeply")
        return value


class BoundedRequest(Request):
    parameter_storage_class = BoundedArgs

    # Flask hands each request the app's JSON provider (``request.json_module = app.json``): wrap it.
    @property
    def json_module(self):
        return self.__dict__.get("_bounded_json") or BoundedJSON()

    @json_module.setter
    def json_module(self, provider):
        self.__dict__["_bounded_json"] = BoundedJSON(provider)


def configure_inputs(app):
    """Called before any blueprint is registered: the routes are built with the bounded converter."""
    app.request_class = BoundedRequest
    app.url_map.converters["int"] = IdConverter
