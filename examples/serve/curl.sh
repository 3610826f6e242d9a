#!/bin/sh
# Runs a worker once on an islet server with curl: `npx islet serve` in another terminal, then
#   sh examples/serve/curl.sh            (ISLET_URL defaults to http://127.0.0.1:8787)
# With API keys configured, set ISLET_API_KEY too.
set -eu
url="${ISLET_URL:-http://127.0.0.1:8787}"
curl --silent --show-error --fail-with-body "$url/v1/run" \
  -H 'content-type: application/json' \
  ${ISLET_API_KEY:+-H "authorization: Bearer $ISLET_API_KEY"} \
  --data-binary @- <<'JSON'
{
  "code": "export default { greet(name) { console.log('greeting', name); return `Hello, ${name}!`; } }",
  "method": "greet",
  "args": ["curl"],
  "limits": { "cpuMs": 100 }
}
JSON
echo
