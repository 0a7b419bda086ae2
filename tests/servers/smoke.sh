#!/usr/bin/env bash
# End-to-end smoke test of the test servers, using only curl (+ openssl/node for tiny helpers).
# Plays the user's browser with a cookie jar, exactly as described in README.md.
# Usage: tests/servers/smoke.sh        (runs `npm ci` first if node_modules is missing)
set -euo pipefail
cd "$(dirname "$0")"
[ -d node_modules ] || npm ci --no-audit --no-fund >&2

TMP=$(mktemp -d)
PIDS=()
FDS=()
cleanup() {
  # Closing a server's stdin is the normal way to stop it; SIGTERM only as a fallback.
  for fd in "${FDS[@]}"; do eval "exec ${fd}>&-"; done
  for pid in "${PIDS[@]}"; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
# json FIELD < compact-json -> top-level string/number/bool field ('' if absent). Both servers emit
# compact JSON whose token values never contain quotes, so sed is enough (and much faster than node).
json() { sed -n -E "s/.*\"$1\":(\"([^\"]*)\"|(-?[0-9.]+|true|false)).*/\2\3/p" | head -1; }
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
rand() { openssl rand 32 | b64url; }
sha256hex() { printf %s "$1" | openssl dgst -sha256 -r | cut -d' ' -f1; }
urlenc() { node -e 'process.stdout.write(encodeURIComponent(process.argv[1]))' "$1"; }

# start NAME script.mjs [args...]  -> sets ${NAME}_ISSUER; the server's stdin is a FIFO we hold open
start() {
  local name=$1; shift
  mkfifo "$TMP/$name.in"
  node "$@" <"$TMP/$name.in" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS+=($!)
  local fd
  exec {fd}>"$TMP/$name.in"
  FDS+=("$fd")
  for _ in $(seq 100); do [ -s "$TMP/$name.out" ] && break; sleep 0.05; done
  [ -s "$TMP/$name.out" ] || { cat "$TMP/$name.err" >&2; fail "$name did not start"; }
  printf -v "${name}_ISSUER" %s "$(json issuer <"$TMP/$name.out")"
}

# browse URL [curl args...]: one "browser" step with the cookie jar, following redirects by hand
# until a page (non-3xx) is reached or the redirect points at $STOP_AT (the loopback callback).
# Sets PAGE (body of the last page), LAST_URL, and CALLBACK (the redirect to $STOP_AT, if any).
browse() {
  local url=$1; shift
  CALLBACK=""
  for _ in $(seq 20); do
    local out
    out=$(curl -sS -b "$JAR" -c "$JAR" -o "$TMP/page" -w '%{http_code} %{redirect_url}' "$@" "$url")
    local code=${out%% *} loc=${out#* }
    LAST_URL=$url
    if [[ $code == 30? ]]; then
      if [[ -n ${STOP_AT:-} && $loc == "$STOP_AT"* ]]; then CALLBACK=$loc; PAGE=""; return; fi
      url=$loc; set --   # redirects are followed with GET
    else
      PAGE=$(cat "$TMP/page"); [[ $code == 200 ]] || fail "HTTP $code at $url: $PAGE"; return
    fi
  done
  fail "too many redirects"
}
# form_action: absolute action URL of the first form on PAGE
form_action() {
  local a; a=$(printf %s "$PAGE" | sed -n 's/.*<form[^>]*action="\([^"]*\)".*/\1/p' | head -1)
  [[ $a == http* ]] || a="$(sed -E 's#^(https?://[^/]+).*#\1#' <<<"$LAST_URL")$a"
  printf %s "$a"
}
hidden() { printf %s "$PAGE" | sed -n "s/.*name=\"$1\" value=\"\([^\"]*\)\".*/\1/p" | head -1; }
# finish_interactions: submit devInteractions login (and consent) forms until leaving /interaction
finish_interactions() {
  for _ in 1 2 3; do
    if grep -q 'name="prompt" value="login"' <<<"$PAGE"; then
      browse "$(form_action)" --data-urlencode prompt=login --data-urlencode login=octocat --data-urlencode password=anything
    elif grep -q 'name="prompt" value="consent"' <<<"$PAGE"; then
      CONSENTS=$((CONSENTS + 1))
      browse "$(form_action)" --data-urlencode prompt=consent
    else
      return 0
    fi
    if [[ -n $CALLBACK ]]; then return 0; fi
  done
}

start mock mock.mjs
start oidc oidc.mjs
start oidcc oidc.mjs --consent
CLIENT=authsome-device
echo "mock  $mock_ISSUER"
echo "oidc  $oidc_ISSUER (auto-consent), $oidcc_ISSUER (--consent)"

########## oidc-provider: device flow ##########
JAR=$TMP/jar-device; STOP_AT=""; CONSENTS=0
DA=$(curl -sS -X POST "$oidc_ISSUER/device/auth" -d client_id=$CLIENT --data-urlencode 'scope=openid read')
DEVICE_CODE=$(json device_code <<<"$DA"); USER_CODE=$(json user_code <<<"$DA")
VERIFY=$(json verification_uri <<<"$DA"); [[ $(json interval <<<"$DA") == 1 ]] || fail "interval: $DA"
poll() { curl -sS -X POST "$oidc_ISSUER/token" -d client_id=$CLIENT \
  --data-urlencode grant_type=urn:ietf:params:oauth:grant-type:device_code --data-urlencode "device_code=$DEVICE_CODE"; }
[[ $(poll | json error) == authorization_pending ]] || fail "expected authorization_pending"
browse "$VERIFY"                                             # user-code input form
browse "$(form_action)" --data-urlencode "xsrf=$(hidden xsrf)" --data-urlencode "user_code=$USER_CODE"
grep -q 'op.deviceConfirmForm' <<<"$PAGE" || fail "no confirm form"
browse "$(form_action)" --data-urlencode "xsrf=$(hidden xsrf)" --data-urlencode "user_code=$(hidden user_code)" \
  --data-urlencode confirm=yes                               # -> login page
finish_interactions
grep -q 'Sign-in Success' <<<"$PAGE" || fail "device success page not reached: $PAGE"
[[ $CONSENTS == 0 ]] || fail "consent page shown in auto-consent mode"
TOK=$(poll); RT1=$(json refresh_token <<<"$TOK")
[[ -n $(json access_token <<<"$TOK") && -n $RT1 && -n $(json id_token <<<"$TOK") ]] || fail "device token: $TOK"
echo "oidc device token fields: $(node -e 'console.log(Object.keys(JSON.parse(process.argv[1])).join(","))' "$TOK"); scope='$(json scope <<<"$TOK")'"
refresh() { curl -sS -X POST "$oidc_ISSUER/token" -d client_id=$CLIENT -d grant_type=refresh_token --data-urlencode "refresh_token=$1"; }
R2=$(refresh "$RT1"); RT2=$(json refresh_token <<<"$R2")
[[ -n $RT2 && $RT2 != "$RT1" ]] || fail "refresh did not rotate: $R2"
R3=$(refresh "$RT2"); RT3=$(json refresh_token <<<"$R3")
[[ -n $RT3 && $RT3 != "$RT2" ]] || fail "second refresh: $R3"
[[ $(refresh "$RT1" | json error) == invalid_grant ]] || fail "reused RT1 accepted"
[[ $(refresh "$RT3" | json error) == invalid_grant ]] || fail "RT reuse did not revoke the grant"
echo "oidc device flow ok; refresh rotated twice; reusing an old RT -> invalid_grant AND kills the grant"

########## oidc-provider: authorization code + PKCE, loopback redirect with a random port ##########
authcode() { # ISSUER
  local iss=$1
  JAR=$TMP/jar-$RANDOM
  local verifier challenge state redirect
  verifier=$(rand); challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | b64url); state=$(rand)
  redirect="http://127.0.0.1:$((20000 + RANDOM % 40000))/callback"; STOP_AT=$redirect
  browse "$iss/auth?client_id=$CLIENT&response_type=code&scope=$(urlenc 'openid read')&state=$state&redirect_uri=$(urlenc "$redirect")&code_challenge=$challenge&code_challenge_method=S256"
  grep -q 'name="prompt" value="login"' <<<"$PAGE" || fail "no login page"
  finish_interactions
  [[ -n $CALLBACK ]] || fail "no callback redirect: $PAGE"
  local q=${CALLBACK#*\?}
  qp() { node -e 'process.stdout.write(new URLSearchParams(process.argv[1]).get(process.argv[2])??"")' "$q" "$1"; }
  [[ $(qp state) == "$state" && $(qp iss) == "$iss" ]] || fail "callback: $CALLBACK"
  TOK=$(curl -sS -X POST "$iss/token" -d client_id=$CLIENT -d grant_type=authorization_code \
    --data-urlencode "code=$(qp code)" --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier")
  [[ -n $(json access_token <<<"$TOK") && -n $(json refresh_token <<<"$TOK") ]] || fail "code exchange: $TOK"
}
CONSENTS=0
authcode "$oidc_ISSUER";  [[ $CONSENTS == 0 ]] || fail "consent page shown in auto-consent mode"; echo "oidc auth code ok (auto-consent) scope='$(json scope <<<"$TOK")'"
authcode "$oidcc_ISSUER"; [[ $CONSENTS == 1 ]] || fail "consent page not shown with --consent"; echo "oidc auth code ok (login + consent form)"
R=$(curl -sS -X POST "$oidc_ISSUER/token/revocation" -d client_id=$CLIENT --data-urlencode "token=$(json refresh_token <<<"$TOK")" -w '%{http_code}')
[[ $R == 200 ]] || fail "oidc revocation: $R"

########## oauth2-mock-server ##########
curl -sS -X DELETE "$mock_ISSUER/__requests"
verifier=$(rand); challenge=$(printf %s "$verifier" | openssl dgst -sha256 -binary | b64url); state=$(rand)
redirect="http://127.0.0.1:$((20000 + RANDOM % 40000))/callback"
mauth() { curl -sS -o /dev/null -w '%{redirect_url}' "$mock_ISSUER/authorize?response_type=code&client_id=cli&scope=$(urlenc 'read write')&state=$state&redirect_uri=$(urlenc "$redirect")&code_challenge=$challenge&code_challenge_method=S256"; }
LOC=$(mauth)
CODE=$(node -e 'const u=new URL(process.argv[1]);if(u.searchParams.get("state")!==process.argv[2])process.exit(1);process.stdout.write(u.searchParams.get("code"))' "$LOC" "$state") || fail "mock redirect: $LOC"
mtoken() { curl -sS -X POST "$mock_ISSUER/token" "$@"; }
BAD=$(mtoken -d grant_type=authorization_code -d client_id=cli --data-urlencode "code=$(node -e 'process.stdout.write(new URL(process.argv[1]).searchParams.get("code"))' "$(mauth)")" \
  --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$(rand)")
[[ $(json error <<<"$BAD") == invalid_grant ]] || fail "mock accepted a wrong PKCE verifier: $BAD"
TOK=$(mtoken -d grant_type=authorization_code -d client_id=cli --data-urlencode "code=$CODE" \
  --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier")
RT=$(json refresh_token <<<"$TOK")
[[ -n $RT && $(json scope <<<"$TOK") == "read write" && $(json expires_in <<<"$TOK") == 3600 ]] || fail "mock code exchange: $TOK"
echo "mock token fields: $(node -e 'console.log(Object.keys(JSON.parse(process.argv[1])).join(","))' "$TOK")"
[[ $(mtoken -d grant_type=authorization_code -d client_id=cli --data-urlencode "code=$CODE" --data-urlencode "redirect_uri=$redirect" --data-urlencode "code_verifier=$verifier" | json error) == invalid_grant ]] || fail "code reuse accepted"
R=$(mtoken -d grant_type=refresh_token -d client_id=cli --data-urlencode "refresh_token=$RT")
[[ -n $(json access_token <<<"$R") && $(json scope <<<"$R") == "read write" ]] || fail "mock refresh: $R"
CC=$(mtoken -u svc:s3cret -d grant_type=client_credentials -d scope=api)
[[ -n $(json access_token <<<"$CC") && $(json scope <<<"$CC") == api && -z $(json refresh_token <<<"$CC") ]] || fail "client_credentials: $CC"
[[ $(curl -sS -o /dev/null -w '%{http_code}' -X POST "$mock_ISSUER/revoke" -d client_id=cli -d token_type_hint=refresh_token --data-urlencode "token=$RT") == 200 ]] || fail "revoke"
[[ $(mtoken -d grant_type=refresh_token -d client_id=cli --data-urlencode "refresh_token=$RT" | json error) == invalid_grant ]] || fail "revoked RT accepted"
LOG=$(curl -sS "$mock_ISSUER/__requests")
! grep -qF "$RT" <<<"$LOG" || fail "request log leaks a token value"
! grep -qF "s3cret" <<<"$LOG" || fail "request log leaks the client secret"
REV=$(curl -sS "$mock_ISSUER/__requests?path=/revoke")
node -e 'const r=JSON.parse(process.argv[1]);if(r.length!==1||r[0].sha256.token!==process.argv[2]||r[0].params.token_type_hint!=="refresh_token")process.exit(1)' "$REV" "$(sha256hex "$RT")" \
  || fail "revoke not visible in /__requests: $REV"
echo "mock ok: auth code + PKCE (bad verifier rejected), refresh, client_credentials, revoke; $(node -e 'console.log(JSON.parse(process.argv[1]).length)' "$LOG") requests logged"

echo "smoke ok"
