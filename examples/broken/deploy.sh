#!/bin/sh
# A hand-made deploy script with the mistakes that cost the user their evenings.
docker run -d --name litellm -p 4000:4000 ghcr.io/berriai/litellm:main-latest \
  --config /app/config.yaml --port 4000 --num_workers 4 --master_key ${LITELLM_MASTER_KEY}
echo "clients: http://linuxserver.lan:4000/mcp"
psql "$DATABASE_URL" -c 'select * from litellm_logs order by created_at desc limit 20'
