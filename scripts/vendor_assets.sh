#!/bin/sh
# Refresh the front-end libraries served from opsdesk/web/static/vendor (make vendor).
# Versions are pinned in assets/package.json and package-lock.json; the copied files and
# their licences are committed, so `make run` needs neither npm nor the internet.
set -eu
cd "$(dirname "$0")/.."
npm ci --prefix assets --no-audit --no-fund >/dev/null
vendor=opsdesk/web/static/vendor
modules=assets/node_modules
rm -rf "$vendor"
mkdir -p "$vendor/htmx" "$vendor/echarts"
cp "$modules/htmx.org/dist/htmx.min.js" "$modules/htmx.org/LICENSE" "$vendor/htmx/"
# The "common" build holds line, bar, pie and the components a dashboard uses (a third of
# the full build).
cp "$modules/echarts/dist/echarts.common.min.js" "$modules/echarts/LICENSE" "$vendor/echarts/"
cp "$modules/zrender/LICENSE" "$vendor/echarts/LICENSE.zrender"
cp "$modules/tslib/LICENSE.txt" "$vendor/echarts/LICENSE.tslib" 2>/dev/null || true
node -e '
const lock = require("./assets/package-lock.json");
for (const [path, meta] of Object.entries(lock.packages)) {
  if (path) console.log(path.replace("node_modules/", "") + " " + meta.version + " " + (meta.license || ""));
}' > "$vendor/VERSIONS"
echo "Vendored into $vendor:"
cat "$vendor/VERSIONS"
