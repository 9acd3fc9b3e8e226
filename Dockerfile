# The bot's image, used by docker-compose.yml. Migrations run at start (python -m bot).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY handlers ./handlers
COPY models ./models
COPY jobs ./jobs
COPY bench ./bench
RUN pip install --no-cache-dir . && useradd --create-home aveq && mkdir -p /app/data \
    && chown aveq /app/data
USER aveq
CMD ["python", "-m", "bot"]
