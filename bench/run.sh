#!/usr/bin/env bash
# What the add-on's entrypoint did before the launcher: read the options
# with jq, export them, start node (bashio's `exec node index.js`).
set -e
options=${OPTIONS_FILE:-/data/options.json}
if [ -f "$options" ]; then
  for key in $(jq -r 'keys[]' "$options"); do
    value=$(jq -r --arg k "$key" '.[$k] | if type == "string" then . else tojson end' "$options")
    export "$(echo "$key" | tr '[:lower:]' '[:upper:]' | tr -c 'A-Z0-9_\n' '_')=$value"
  done
fi
cd "$APP_DIR"
exec node "$ENTRY"
