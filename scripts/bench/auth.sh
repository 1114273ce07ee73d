# Shared by the benchmark scripts whose streams can authenticate (churn.sh, fanout-compare.sh); source it.
# An AUTH mode says how a node checks streams and what sse-bench sends:
#
#   none    no tokens (a cluster node runs with --no-auth, a standalone node without a key: open)
#   hs256   the node gets --jwt-secret (48 random hex characters); sse-bench mints one HS256 token per
#           connection before the run and sends it
#   es256   the node gets --jwt-key-file with a P-256 private key made by openssl (it verifies with the
#           public half); sse-bench mints ES256 tokens with the same file
#   users   (idle streams only) no tokens, but each stream its own user, given in the query: the
#           identity a token gives, without the token
#
# The secret and the key are written into RUN_DIR (jwt-secret, jwt-es256.pem), readable by this user only.
# TOKEN_IN=header (Authorization: Bearer) or query (?token=): where each request carries its token.
# RUN_DIR must be set and exist before auth_prepare.

TOKEN_IN=${TOKEN_IN:-header}

# auth_prepare MODE...: checks the modes and makes the secret and key they need.
auth_prepare() {
    local mode
    for mode in "$@"; do
        case $mode in
            none | users) ;;
            hs256)
                [[ -s $RUN_DIR/jwt-secret ]] ||
                    (umask 077 && head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$RUN_DIR/jwt-secret")
                ;;
            es256)
                command -v openssl >/dev/null || { echo "AUTH=es256 needs openssl (apt-get install openssl)" >&2; exit 1; }
                [[ -s $RUN_DIR/jwt-es256.pem ]] ||
                    (umask 077 && openssl ecparam -name prime256v1 -genkey -noout | openssl pkcs8 -topk8 -nocrypt >"$RUN_DIR/jwt-es256.pem")
                ;;
            *) echo "unknown AUTH mode '$mode' (none, hs256, es256, users)" >&2; exit 1 ;;
        esac
    done
    [[ $TOKEN_IN == header || $TOKEN_IN == query ]] || { echo "TOKEN_IN must be header or query" >&2; exit 1; }
}

# auth_node_args MODE: sets AUTH_NODE_ARGS, the `sse-fanout serve` flags for that mode (none: empty).
auth_node_args() {
    case $1 in
        hs256) AUTH_NODE_ARGS=(--jwt-secret "$(cat "$RUN_DIR/jwt-secret")") ;;
        es256) AUTH_NODE_ARGS=(--jwt-key-file "$RUN_DIR/jwt-es256.pem") ;;
        *) AUTH_NODE_ARGS=() ;;
    esac
}

# auth_bench_args MODE: sets AUTH_BENCH_ARGS, the `sse-bench churn|idle` flags that make it mint and send
# tokens for that mode (none and users: empty).
auth_bench_args() {
    case $1 in
        hs256) AUTH_BENCH_ARGS=(--jwt-secret "$(cat "$RUN_DIR/jwt-secret")" --token-in "$TOKEN_IN") ;;
        es256) AUTH_BENCH_ARGS=(--jwt-key-file "$RUN_DIR/jwt-es256.pem" --token-in "$TOKEN_IN") ;;
        *) AUTH_BENCH_ARGS=() ;;
    esac
}
