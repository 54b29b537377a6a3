"""`lti-tool serve ARGS` with the gunicorn hooks of a config file added (the CLI takes no
gunicorn config of its own): `python bench/tracemalloc_serve.py CONFIG serve --workers 3`.

The config's server hooks (post_fork, worker_exit, ...) are set on top of the options
`lti-tool serve` gives gunicorn; everything else runs as in production.
"""

from __future__ import annotations

import runpy
import sys

HOOKS = ("pre_fork", "post_fork", "post_worker_init", "worker_exit", "child_exit")


def main() -> None:
    config, args = sys.argv[1], sys.argv[2:]
    hooks = {k: v for k, v in runpy.run_path(config).items() if k in HOOKS}

    from lti_tool import server

    load_config = server._App.load_config

    def with_hooks(self) -> None:
        load_config(self)
        for name, hook in hooks.items():
            self.cfg.set(name, hook)

    server._App.load_config = with_hooks
    from lti_tool.cli import main as cli

    sys.argv = ["lti-tool", *args]
    cli()


if __name__ == "__main__":
    main()
