"""damask, imported without the root-logger handler that its __init__ installs (logging.basicConfig at import).

That handler would echo every log line of the host program (Snakemake's included) a second time.
Use ``from mechanics._damask import damask`` instead of ``import damask``.
"""
import logging

_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level
import damask  # noqa: E402

for _h in [h for h in _root.handlers if h not in _handlers]:
    _root.removeHandler(_h)
_root.setLevel(_level)

__all__ = ["damask"]
