"""Shared machine-learning helpers for the tasks: metrics, data splits and their plots.

Built on scikit-learn (imported inside the functions that need it), so importing this
package stays cheap. Tasks in `components.models` and `components.analytics` use these
instead of computing scores or splits themselves.
"""

from __future__ import annotations

__all__ = ["metrics", "plots", "splits"]
