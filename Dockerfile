# The bot's image, used by docker-compose.yml. Migrations run at start (python -m bot).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
# The locked dependencies first, every file checked against its hash (requirements-docker.txt:
# the runtime part of requirements-lock.txt, same versions; `make lock` writes both). A code
# change then reuses this layer.
COPY requirements-docker.txt ./
RUN pip install --no-cache-dir --require-hashes -r requirements-docker.txt
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY jobs ./jobs
COPY bench ./bench
RUN pip install --no-cache-dir --no-deps . && useradd --create-home aveq && mkdir -p /app/data \
    && chown aveq /app/data
# The installed package lives in site-packages: the key file and the heartbeat go to the
# data volume (/app/data), not next to the code.
ENV DATA_ENCRYPTION_KEY_FILE=/app/data/encryption.key HEARTBEAT_FILE=/app/data/heartbeat
USER aveq
CMD ["python", "-m", "bot"]
