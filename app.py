"""Run magbot's web chat: ``python app.py`` (host and port from MAGBOT_HOST / MAGBOT_PORT)."""

import logging

from magbot._settings import Settings
from magbot.index.embed import offline_environment

if __name__ == "__main__":
    offline_environment()
    settings = Settings()
    logging.basicConfig(level=settings.log_level or "INFO", format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from magbot.frontends.server import serve

    serve(settings)
