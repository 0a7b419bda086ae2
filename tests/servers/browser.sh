#!/usr/bin/env bash
# A scripted browser for tests: `BROWSER=tests/servers/browser.sh authsome login ...`.
# Given an authorization or device-verification URL, it does what a user would: follows
# redirects, enters the user code, confirms, logs in to oidc-provider's login page as
# $BROWSER_LOGIN (default octocat), consents, and so reaches authsome's loopback callback or the
# device flow's success page. It appends what it did to $BROWSER_LOG when that is set.
set -uo pipefail
URL=$1
TMP=$(mktemp -d)
JAR=$TMP/jar
trap 'rm -rf "$TMP"' EXIT
log() { [ -n "${BROWSER_LOG:-}" ] && echo "$*" >>"$BROWSER_LOG"; return 0; }

# browse URL [curl args...]: one step with the cookie jar, following redirects (as GET) by hand.
browse() {
  local url=$1; shift
  for _ in $(seq 20); do
    local out
    out=$(curl -sS -b "$JAR" -c "$JAR" -o "$TMP/page" -w '%{http_code} %{redirect_url}' "$@" "$url") || { log "curl failed at $url"; exit 1; }
    local code=${out%% *} loc=${out#* }
    LAST_URL=$url
    if [[ $code == 30? ]]; then
      url=$loc; set --
    else
      PAGE=$(cat "$TMP/page"); CODE=$code; return
    fi
  done
  log "too many redirects"; exit 1
}
form_action() {
  local a; a=$(printf %s "$PAGE" | sed -n 's/.*<form[^>]*action="\([^"]*\)".*/\1/p' | head -1)
  [[ $a == http* ]] || a="$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$LAST_URL")$a"
  printf %s "$a"
}
hidden() { printf %s "$PAGE" | sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" | head -1; }

browse "$URL"
for _ in $(seq 8); do
  if grep -q 'op.deviceConfirmForm\|name="confirm"' <<<"$PAGE"; then
    log "confirm device code"
    browse "$(form_action)" --data-urlencode "xsrf=$(hidden xsrf)" --data-urlencode "user_code=$(hidden user_code)" --data-urlencode confirm=yes
  elif grep -q 'name="user_code"' <<<"$PAGE"; then
    code=$(sed -n 's/.*user_code=\([A-Z0-9-]*\).*/\1/p' <<<"$URL")
    log "enter device code $code"
    browse "$(form_action)" --data-urlencode "xsrf=$(hidden xsrf)" --data-urlencode "user_code=$code"
  elif grep -q 'name="prompt" value="login"' <<<"$PAGE"; then
    log "log in as ${BROWSER_LOGIN:-octocat}"
    browse "$(form_action)" --data-urlencode prompt=login --data-urlencode "login=${BROWSER_LOGIN:-octocat}" --data-urlencode password=anything
  elif grep -q 'name="prompt" value="consent"' <<<"$PAGE"; then
    log "consent"
    browse "$(form_action)" --data-urlencode prompt=consent
  else
    break
  fi
done
if grep -q 'Sign-in Success' <<<"$PAGE"; then log "device approved"; fi
if grep -q 'You can close this tab' <<<"$PAGE"; then log "callback reached"; fi
log "final $CODE"
