"""Placeholder tokens that `normalize` writes in place of URLs, e-mail addresses and numbers.

Every tokenizer backend keeps a placeholder as one token, whatever its neighbours.
"""

from __future__ import annotations

import re

__all__ = ["EMAIL", "NUM", "PLACEHOLDER_RE", "URL"]

URL = "<URL>"
EMAIL = "<EMAIL>"
NUM = "<NUM>"

#: Matches any placeholder; tokenizers cut around these matches.
PLACEHOLDER_RE = re.compile(r"<(?:URL|EMAIL|NUM)>")
