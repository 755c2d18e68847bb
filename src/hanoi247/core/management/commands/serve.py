import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Serve the node over HTTP (gunicorn) with its delivery worker beside it."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=2, help="web processes")
        parser.add_argument("--threads", type=int, default=8, help="threads per web process")
        parser.add_argument("--no-worker", action="store_true", help="run the delivery worker separately")

    def handle(self, *args: Any, **options: Any) -> None:
        from gunicorn.app.base import BaseApplication

        from hanoi247.wsgi import application

        class Server(BaseApplication):
            def load_config(self) -> None:
                for key, value in {
                    "bind": f"{options['host']}:{options['port']}",
                    "workers": options["workers"],
                    "threads": options["threads"],
                    "worker_class": "gthread",
                    "graceful_timeout": 5,
                    "timeout": 120,
                    "loglevel": "warning",
                }.items():
                    self.cfg.set(key, value)

            def load(self) -> Any:
                return application

        worker = None
        if not options["no_worker"]:
            worker = subprocess.Popen([sys.executable, "-m", "hanoi247.cli", "worker"])
        try:
            Server().run()
        finally:
            if worker is not None:
                worker.terminate()
                try:
                    worker.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    worker.kill()
