# The twitter_crawler plugin image: what a Memri Pod starts when a PluginRun names it.
#
#   docker build -t twitter_crawler .
#   docker run --rm -e POD_FULL_ADDRESS=... -e POD_OWNER=... -e POD_AUTH_JSON=... \
#       -e POD_TARGET_ITEM=... twitter_crawler [-s LOG_LEVEL=DEBUG]
#
# docs/plugin.md describes the environment. Two stages: pymemri 0.1.2 (the "pod" extra) pins
# Pillow 8.4.0, which has no wheel for Python 3.11 and is compiled here; the compiler and the
# headers stay in the build stage, the final image gets the virtualenv and the runtime libraries.

ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential libjpeg-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/venv
WORKDIR /src
# The crawler only: the emulator and the Pod test server beside it are test servers, and stay out
# (.dockerignore too).
COPY pyproject.toml README.md ./
COPY twitter_crawler ./twitter_crawler
RUN /opt/venv/bin/pip install ".[pod]"

FROM ${PYTHON_IMAGE}
# Pillow's runtime library (zlib is in the base image); tini as PID 1 passes SIGTERM on to the
# crawl (which then stops cleanly and reports the run "aborted") and reaps children.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libjpeg62-turbo tini \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
RUN useradd --create-home --uid 10001 --user-group plugin
USER plugin
WORKDIR /home/plugin
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    SCRAPY_SETTINGS_MODULE=twitter_crawler.settings
ENTRYPOINT ["tini", "--", "python", "-m", "twitter_crawler.plugin"]
