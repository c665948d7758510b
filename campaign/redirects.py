"""The one check every user-supplied redirect target (``next``) goes through."""
import re
from urllib.parse import urlsplit

from flask import url_for

# Browsers drop tab, CR and LF anywhere in a URL ("/\t/evil.example" is "//evil.example" to them),
# and a control character in a Location header is refused by the server.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")


def safe_next(target, fallback_endpoint: str = "main.index") -> str:
    """``target`` when it is a path on this site, else the fallback page. Control characters are
    removed before judging, as a browser would, and a backslash (read as a slash) is refused."""
    if not isinstance(target, str):
        return url_for(fallback_endpoint)
    target = CONTROL_CHARACTERS.sub("", target).strip()
    parts = urlsplit(target)
    if (
        not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
        or parts.scheme
        or parts.netloc
    ):
        return url_for(fallback_endpoint)
    return target
