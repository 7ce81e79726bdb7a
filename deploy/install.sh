#!/usr/bin/env bash
# Installs or upgrades Switchboard on Debian 12 or Ubuntu, as root, from a clone of the repository.
# Idempotent: a second run changes nothing and says so. Every step prints one line of what it did.
# What each step does, and why: docs/operations.md ("Installing with deploy/install.sh").
#
#   deploy/install.sh                  build (swift build -c release), then install or upgrade
#   deploy/install.sh --no-build       install the binaries already in .build/release
#   deploy/install.sh --bin-dir DIR    install the binaries (and resource bundles) built elsewhere
set -Eeuo pipefail

readonly PREFIX_BIN=/usr/local/bin
readonly UNIT_DIR=/etc/systemd/system
readonly SYSUSERS_CONF=/usr/lib/sysusers.d/switchboard.conf
readonly TMPFILES_CONF=/usr/lib/tmpfiles.d/switchboard.conf
readonly CONFIG_DIR=/etc/switchboard
readonly CONFIG=$CONFIG_DIR/config.json
readonly CREDENTIALS_DIR=$CONFIG_DIR/credentials
readonly STATE_DIR=/var/lib/switchboard
readonly APT_PACKAGES=(postgresql libpq5 libpq-dev libssl-dev pkg-config)
readonly CREDENTIALS=(whatsapp-app-secret whatsapp-verify-token whatsapp-access-token database-password)
# SwiftPM resource bundles: the daemon finds its migrations and its Varlink interface next to the
# executable (Bundle.module), else in the build directory it was built in.
readonly RESOURCE_BUNDLES=(Switchboard_SwitchboardStore.resources Switchboard_SwitchboardDaemon.resources)

build=yes
bin_dir=
step="start"
changes=()           # one entry per thing changed, for the summary
restart_needed=no    # a binary, resource bundle or the service unit changed
socket_changed=no
credential_stage=    # a temporary copy of the credentials for the switchboard user (see stage_credentials)
placeholders=()      # credentials stood in by placeholders in that copy

usage() {
    cat <<'EOF'
usage: deploy/install.sh [--no-build] [--bin-dir DIR]

Installs or upgrades Switchboard (binaries, systemd units, user, configuration, PostgreSQL role and
database, migrations, BI grants). Run as root from a clone of the repository. Safe to run again.

  --no-build      do not run swift build; install what is in .build/release
  --bin-dir DIR   install switchboardd, switchboardctl and their *.resources bundles from DIR
                  (built elsewhere; implies --no-build)
  -h, --help      this help
EOF
}

say() { printf '%-16s %s\n' "$1:" "$2"; }
detail() { printf '%-16s %s\n' "" "$@"; }   # an indented line under a step's line
warn() { printf '%-16s warning: %s\n' "$step:" "$*" >&2; }
die() {
    printf 'install.sh: step "%s" failed: %s\n' "$step" "$*" >&2
    exit 1
}
changed() { changes+=("$1"); }
join_by() {
    local separator=$1 out="" item
    shift
    for item in "$@"; do out+=${out:+$separator}$item; done
    printf '%s' "$out"
}
on_error() {
    local status=$1 depth=${#BASH_LINENO[@]}
    ((BASH_SUBSHELL == 0)) || return 0   # said once, by the main shell
    # The line of this script's top level that was running (not a line inside a helper function).
    printf 'install.sh: step "%s" failed at line %s of %s (exit status %s)\n' "$step" "${BASH_LINENO[depth - 2]}" "$0" "$status" >&2
}
cleanup() {
    if [[ -n $credential_stage && -d $credential_stage ]]; then rm -rf -- "$credential_stage"; fi
}
trap 'on_error $?' ERR
trap cleanup EXIT
trap 'exit 130' INT   # exit, so that the EXIT trap removes the copy of the credentials
trap 'exit 143' TERM

while (($# > 0)); do
    case $1 in
        --no-build) build=no ;;
        --bin-dir)
            (($# >= 2)) || { usage >&2; exit 64; }
            bin_dir=$2; build=no; shift ;;
        --bin-dir=*) bin_dir=${1#--bin-dir=}; build=no ;;
        -h | --help) usage; exit 0 ;;
        *) printf 'install.sh: unknown argument: %s\n' "$1" >&2; usage >&2; exit 64 ;;
    esac
    shift
done

# Commands run as another user start in / so that they never complain about root's working directory.
as_user() { (cd / && runuser -u "$1" -- "${@:2}"); }
# One SQL statement as postgres; prints the tuples only, unaligned.
psql_postgres() { as_user postgres psql -X -q -v ON_ERROR_STOP=1 -d "${2:-postgres}" -tAc "$1"; }
systemd_running() { [[ -d /run/systemd/system ]]; }

# Installs a file when its content, mode or owner differ; prints nothing, records the change.
install_file() {
    local source=$1 target=$2 mode=$3 what=${4:-$(basename "$2")}
    [[ -f $source ]] || die "$source is missing"
    if [[ -f $target ]] && cmp -s "$source" "$target" && [[ $(stat -c '%a %U %G' "$target") == "${mode#0} root root" ]]; then
        return 1
    fi
    # Called where errexit does not apply (its status is tested): every command says why it failed.
    install -D -m "$mode" -o root -g root "$source" "$target.install-new" || die "cannot install $target"
    mv -f "$target.install-new" "$target" || die "cannot install $target"
    changed "$what"
    return 0
}

# Replaces a directory tree when its content differs (files 0644, directories 0755, root's).
install_tree() {
    local source=$1 target=$2 what
    what=$(basename "$target")
    [[ -d $source ]] || die "$source is missing (built with swift build -c release?)"
    if [[ -d $target ]] && diff -rq "$source" "$target" >/dev/null 2>&1; then return 1; fi
    {
        rm -rf -- "$target.install-new" "$target.install-old" &&
            cp -R -- "$source" "$target.install-new" &&
            chown -R root:root "$target.install-new" &&
            chmod -R u=rwX,go=rX "$target.install-new" &&
            if [[ -e $target ]]; then mv -- "$target" "$target.install-old"; fi &&
            mv -- "$target.install-new" "$target" &&
            rm -rf -- "$target.install-old"
    } || die "cannot install $target"
    changed "$what"
    return 0
}

# systemd's LoadCredential= hands the daemon a private copy of its credentials, readable by its user
# only. Outside the service (check-config, migrate) the daemon still reads every secret the
# configuration names, so this makes the same kind of copy, owned by switchboard, in /run. A
# credential that is missing gets a placeholder there (check-config and migrate never use the
# values), so that the database can be set up before Meta's values are at hand; the credentials
# step says which ones are missing.
stage_credentials() {
    [[ -n $credential_stage ]] && return 0
    credential_stage=$(mktemp -d /run/switchboard-install.XXXXXX)
    local name
    for name in "${CREDENTIALS[@]}"; do
        if [[ -f $CREDENTIALS_DIR/$name ]]; then
            install -m 0400 -o switchboard -g switchboard "$CREDENTIALS_DIR/$name" "$credential_stage/$name"
        elif [[ $name != database-password ]]; then
            printf 'placeholder, not a secret\n' | install -m 0400 -o switchboard -g switchboard /dev/stdin "$credential_stage/$name"
            placeholders+=("$name")
        fi
    done
    chown switchboard:switchboard "$credential_stage"
    chmod 0500 "$credential_stage"
}
as_daemon() { as_user switchboard env CREDENTIALS_DIRECTORY="$credential_stage" "$@"; }

# ---------------------------------------------------------------------------------------------- 1
step="1 checks"
((EUID == 0)) || die "run as root (sudo $0)"
[[ -f /etc/debian_version ]] || die "not a Debian-like system (/etc/debian_version is missing); see docs/operations.md for the steps by hand"
if [[ -n $bin_dir ]]; then
    resolved=$(cd "$bin_dir" 2>/dev/null && pwd) || die "--bin-dir: no such directory: $bin_dir"
    bin_dir=$resolved
fi
cd "$(dirname "$0")/.."
[[ -f Package.swift && -f systemd/switchboard.service && -f deploy/config.production.json ]] ||
    die "$(pwd) is not the Switchboard repository (Package.swift, systemd/, deploy/ expected)"
lock_dir=/run/lock
[[ -d $lock_dir ]] || lock_dir=/run
exec 9>"$lock_dir/switchboard-install.lock"
flock -n 9 || die "another install.sh is running"
if [[ -z $bin_dir ]]; then bin_dir=$(pwd)/.build/release; fi
say "$step" "root, Debian $(cat /etc/debian_version), repository $(pwd)"

# ---------------------------------------------------------------------------------------------- 2
step="2 packages"
missing=()
for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    # 9>&-: a server the package starts must not inherit (and keep) this script's lock.
    DEBIAN_FRONTEND=noninteractive apt-get update -qq 9>&-
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null 9>&-
    changed "apt: ${missing[*]}"
    packages_line="installed ${missing[*]}"
else
    packages_line="unchanged (${APT_PACKAGES[*]})"
fi
if [[ $build == yes ]]; then
    if ! swift_version=$(swift --version 2>/dev/null | head -n 1) || [[ -z $swift_version ]]; then
        die "no Swift toolchain on PATH: get Swift 6.x for this distribution from https://www.swift.org/install/linux/ (swiftly or the tar.gz), put its usr/bin on PATH, and run again; or build elsewhere and pass --bin-dir"
    fi
    packages_line+="; $swift_version"
fi
say "$step" "$packages_line"

# ---------------------------------------------------------------------------------------------- 3
step="3 build"
if [[ $build == yes ]]; then
    swift build -c release --product switchboardd >/dev/null || die "swift build -c release --product switchboardd"
    swift build -c release --product switchboardctl >/dev/null || die "swift build -c release --product switchboardctl"
    say "$step" "built switchboardd and switchboardctl (release) in $bin_dir"
else
    say "$step" "skipped (--no-build); binaries from $bin_dir"
fi
for file in switchboardd switchboardctl; do
    [[ -x $bin_dir/$file ]] || die "$bin_dir/$file is missing (build with swift build -c release, or drop --no-build)"
done
for bundle in "${RESOURCE_BUNDLES[@]}"; do
    [[ -d $bin_dir/$bundle ]] || die "$bin_dir/$bundle is missing: the resource bundles are built beside the binaries and must be installed with them"
done

# ---------------------------------------------------------------------------------------------- 4
step="4 files"
before=${#changes[@]}
install_file "$bin_dir/switchboardd" "$PREFIX_BIN/switchboardd" 0755 && restart_needed=yes
install_file "$bin_dir/switchboardctl" "$PREFIX_BIN/switchboardctl" 0755 || true
for bundle in "${RESOURCE_BUNDLES[@]}"; do
    install_tree "$bin_dir/$bundle" "$PREFIX_BIN/$bundle" && restart_needed=yes
done
install_file systemd/switchboard.service "$UNIT_DIR/switchboard.service" 0644 && restart_needed=yes
install_file systemd/switchboard.socket "$UNIT_DIR/switchboard.socket" 0644 && socket_changed=yes
install_file systemd/switchboard-http.socket "$UNIT_DIR/switchboard-http.socket" 0644 && socket_changed=yes
install_file systemd/switchboard.sysusers "$SYSUSERS_CONF" 0644 sysusers.d/switchboard.conf || true
install_file systemd/switchboard.tmpfiles "$TMPFILES_CONF" 0644 tmpfiles.d/switchboard.conf || true
# A release build links the Swift runtime dynamically (switchboardctl carries its own): check that
# this machine has it where the binary looks.
if unresolved=$(ldd "$PREFIX_BIN/switchboardd" 2>&1 | grep 'not found'); then
    die "switchboardd cannot load: $(echo "$unresolved" | awk '{print $1}' | tr '\n' ' ')— install the Swift runtime it was built with (the same toolchain, at the same path), or build with --static-swift-stdlib"
fi
if ((${#changes[@]} > before)); then
    say "$step" "changed: $(join_by ", " "${changes[@]:before}")"
else
    say "$step" "unchanged (binaries, resource bundles, units, sysusers.d, tmpfiles.d)"
fi

# ---------------------------------------------------------------------------------------------- 5
step="5 users, dirs"
snapshot_identity() {
    getent passwd switchboard || true
    getent group switchboard switchboard-operators || true
    stat -c '%n %a %U %G' "$CONFIG_DIR" "$CREDENTIALS_DIR" "$STATE_DIR" 2>/dev/null || true
}
before_identity=$(snapshot_identity)
executable() { local path; path=$(command -v "$1") && [[ -x $path ]]; }
if executable systemd-sysusers && executable systemd-tmpfiles; then
    # Quiet unless they fail (systemd-sysusers says "Creating user …" on stderr).
    output=$(systemd-sysusers "$SYSUSERS_CONF" 2>&1) || { printf '%s\n' "$output" >&2; die "systemd-sysusers $SYSUSERS_CONF"; }
    output=$(systemd-tmpfiles --create "$TMPFILES_CONF" 2>&1) || { printf '%s\n' "$output" >&2; die "systemd-tmpfiles --create $TMPFILES_CONF"; }
    how="systemd-sysusers, systemd-tmpfiles"
else
    # The same as the two files say, by hand.
    getent group switchboard >/dev/null || addgroup --system --quiet switchboard
    getent passwd switchboard >/dev/null ||
        adduser --system --quiet --ingroup switchboard --home "$STATE_DIR" --no-create-home \
            --shell /usr/sbin/nologin --gecos "Switchboard daemon" switchboard
    getent group switchboard-operators >/dev/null || addgroup --system --quiet switchboard-operators
    install -d -m 0750 -o root -g switchboard "$CONFIG_DIR"
    install -d -m 0700 -o root -g root "$CREDENTIALS_DIR"
    how="adduser, addgroup, install -d"
fi
# StateDirectory= makes it only when systemd starts the unit; migrate and a run by hand need it too.
install -d -m 0750 -o switchboard -g switchboard "$STATE_DIR"
if [[ $(snapshot_identity) != "$before_identity" ]]; then
    changed "user, group and directories"
    say "$step" "created or corrected: user switchboard, group switchboard-operators, $CONFIG_DIR (0750), $CREDENTIALS_DIR (0700), $STATE_DIR (0750) ($how)"
else
    say "$step" "unchanged (user switchboard, group switchboard-operators, $CONFIG_DIR, $CREDENTIALS_DIR, $STATE_DIR)"
fi

# ---------------------------------------------------------------------------------------------- 6
step="6 config"
config_installed=no
if [[ ! -e $CONFIG ]]; then
    install -m 0640 -o root -g switchboard deploy/config.production.json "$CONFIG"
    config_installed=yes
    changed "$CONFIG"
    config_line="installed $CONFIG from deploy/config.production.json (0640 root:switchboard)"
else
    config_line="kept $CONFIG (never overwritten)"
    if [[ $(stat -c '%U %G' "$CONFIG") != "root switchboard" ]] || (($(stat -c '0%a' "$CONFIG") & 8#027)); then
        warn "$CONFIG is $(stat -c '%a %U:%G' "$CONFIG"); expected 0640 root:switchboard (the daemon's user must read it, nobody else)"
    fi
fi
stage_credentials
# Checked as the daemon's user, as the daemon will read it.
if ! check_output=$(as_daemon "$PREFIX_BIN/switchboardd" check-config --config "$CONFIG" 2>&1); then
    printf '%s\n' "$check_output" >&2
    if [[ $config_installed == yes ]]; then
        die "$CONFIG, just installed from deploy/config.production.json, does not validate with $PREFIX_BIN/switchboardd (above): is the binary older than the repository? Build again (or drop --no-build) and run again"
    fi
    die "$CONFIG is invalid (above); fix it and run again"
fi
if ((${#placeholders[@]} > 0)); then
    say "$step" "$config_line; valid (missing credentials stood in by placeholders: ${placeholders[*]}; see step 10)"
else
    say "$step" "$config_line; valid"
fi

# ---------------------------------------------------------------------------------------------- 7
step="7 postgresql"
pg_actions=()
if systemd_running; then
    if ! systemctl is-enabled --quiet postgresql || ! systemctl is-active --quiet postgresql; then
        systemctl enable --now --quiet postgresql 9>&-
        pg_actions+=("enabled and started postgresql.service")
    fi
else
    # The database URL names no port: the cluster on 5432 is the one the daemon uses.
    cluster=$(pg_lsclusters --no-header | awk '$3 == 5432 {print $1, $2, $4; exit}')
    [[ -n $cluster ]] || die "no PostgreSQL cluster on port 5432 (pg_lsclusters); create one with: pg_createcluster --start <version> main"
    read -r pg_version pg_cluster pg_status <<<"$cluster"
    if [[ $pg_status != online* ]]; then
        # 9>&-: the server must not inherit (and keep) this script's lock.
        pg_ctlcluster "$pg_version" "$pg_cluster" start 9>&-
        pg_actions+=("started cluster $pg_version/$pg_cluster (pg_ctlcluster; no systemd here)")
    fi
fi
for _ in $(seq 60); do
    as_user postgres pg_isready -q && break
    sleep 0.5
done
as_user postgres pg_isready -q || die "PostgreSQL does not answer after 30 s (pg_isready); see /var/log/postgresql/"
role_login=$(psql_postgres "SELECT rolcanlogin FROM pg_roles WHERE rolname = 'switchboard'")
if [[ -z $role_login ]]; then
    # No password: peer authentication on the Unix socket maps Unix user switchboard to this role.
    psql_postgres "CREATE ROLE switchboard LOGIN" >/dev/null
    pg_actions+=("created role switchboard")
elif [[ $role_login != t ]]; then
    psql_postgres "ALTER ROLE switchboard LOGIN" >/dev/null
    pg_actions+=("allowed role switchboard to log in")
fi
database_owner=$(psql_postgres "SELECT pg_get_userbyid(datdba) || ' ' || pg_encoding_to_char(encoding) FROM pg_database WHERE datname = 'switchboard'")
if [[ -z $database_owner ]]; then
    psql_postgres "CREATE DATABASE switchboard OWNER switchboard ENCODING 'UTF8' TEMPLATE template0" >/dev/null
    pg_actions+=("created database switchboard")
elif [[ $database_owner != "switchboard UTF8" ]]; then
    warn "database switchboard exists with owner and encoding \"$database_owner\"; expected \"switchboard UTF8\" (left as it is)"
fi
if [[ -z $(psql_postgres "SELECT 1 FROM pg_roles WHERE rolname = 'switchboard_bi'") ]]; then
    # The BI group role: analysts get LOGIN roles of their own, granted this one.
    psql_postgres "CREATE ROLE switchboard_bi NOLOGIN" >/dev/null
    pg_actions+=("created role switchboard_bi")
fi
if ((${#pg_actions[@]} > 0)); then
    for action in "${pg_actions[@]}"; do changed "$action"; done
    say "$step" "$(join_by "; " "${pg_actions[@]}")"
else
    say "$step" "unchanged (running; roles switchboard, switchboard_bi and database switchboard exist)"
fi

# ---------------------------------------------------------------------------------------------- 8
step="8 migrations"
if ! migrate_output=$(as_daemon "$PREFIX_BIN/switchboardd" migrate --config "$CONFIG" 2>&1); then
    printf '%s\n' "$migrate_output" >&2
    die "switchboardd migrate failed (above)"
fi
if grep -q '^nothing to apply' <<<"$migrate_output"; then
    say "$step" "unchanged ($(tail -n 1 <<<"$migrate_output"))"
else
    changed "migrations: $(grep -c '^applied ' <<<"$migrate_output" || true) applied"
    say "$step" "$(grep '^applied ' <<<"$migrate_output" | sed 's/^applied //' | paste -sd ' ' -); $(tail -n 1 <<<"$migrate_output")"
fi

# ---------------------------------------------------------------------------------------------- 9
step="9 bi grants"
acl_snapshot() {
    psql_postgres "SELECT string_agg(item, ' ' ORDER BY item) FROM (
        SELECT 'schema:' || nspname || '=' || coalesce(nspacl::text, '') || '/' || nspowner::regrole::text AS item
          FROM pg_namespace WHERE nspname IN ('bi', 'switchboard', 'public')
        UNION ALL
        SELECT 'relation:' || c.relname || '=' || coalesce(c.relacl::text, '')
          FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bi'
        UNION ALL
        SELECT 'default:' || coalesce(d.defaclacl::text, '')
          FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace WHERE n.nspname = 'bi'
        UNION ALL
        SELECT 'database:' || coalesce(datacl::text, '') FROM pg_database WHERE datname = current_database()
    ) AS acl" switchboard
}
before_acl=$(acl_snapshot)
as_user postgres psql -X -q -v ON_ERROR_STOP=1 -d switchboard -f - <deploy/bi-grants.sql >/dev/null
if [[ $(acl_snapshot) != "$before_acl" ]]; then
    changed "BI grants"
    say "$step" "applied deploy/bi-grants.sql (switchboard_bi reads schema bi)"
else
    say "$step" "unchanged (deploy/bi-grants.sql already in effect)"
fi

# --------------------------------------------------------------------------------------------- 10
# Before systemd (step 11), which starts the daemon only when every credential is in place.
step="10 credentials"
credentials_missing=()
credential_lines=()
for name in "${CREDENTIALS[@]}"; do
    file=$CREDENTIALS_DIR/$name
    if [[ $name == database-password && ! -e $file ]]; then
        # Peer authentication needs no password, but LoadCredential= needs the file to exist.
        install -m 0600 -o root -g root /dev/null "$file"
        changed "$file (empty)"
        credential_lines+=("$name: created empty (peer authentication needs none)")
    elif [[ ! -e $file ]]; then
        credentials_missing+=("$name")
        credential_lines+=("$name: MISSING")
    elif [[ ! -s $file && $name != database-password ]]; then
        credentials_missing+=("$name")
        credential_lines+=("$name: EMPTY")
    else
        credential_lines+=("$name: present")
    fi
    if [[ -e $file && $(stat -c '%a %U' "$file") != "600 root" && $(stat -c '%a %U' "$file") != "400 root" ]]; then
        warn "$file is $(stat -c '%a %U' "$file"); expected 0600 root (chmod 0600 $file; chown root:root $file)"
    fi
done
say "$step" "$(join_by "; " "${credential_lines[@]}") (in $CREDENTIALS_DIR)"
for name in "${credentials_missing[@]}"; do
    case $name in
        whatsapp-app-secret) source_hint="the App secret: Meta App Dashboard > your app > App settings > Basic" ;;
        whatsapp-verify-token) source_hint="a random string you choose (openssl rand -hex 32), typed as Verify token in App Dashboard > WhatsApp > Configuration > Webhook" ;;
        whatsapp-access-token) source_hint="a system user's token: Business Settings > Users > System users > Generate new token, permission whatsapp_business_messaging" ;;
        *) source_hint="the value for $name" ;;
    esac
    detail "$name: $source_hint; then:"
    detail "  install -m 0600 /dev/stdin $CREDENTIALS_DIR/$name <<<'…'"
done

# --------------------------------------------------------------------------------------------- 11
step="11 systemd"
systemd_lines=()
if command -v systemd-analyze >/dev/null 2>&1; then
    if verify_output=$(systemd-analyze verify "$UNIT_DIR/switchboard.service" "$UNIT_DIR/switchboard.socket" "$UNIT_DIR/switchboard-http.socket" 2>&1); then
        if [[ -n $verify_output ]]; then
            systemd_lines+=("systemd-analyze verify: passed with remarks (below)")
        else
            systemd_lines+=("systemd-analyze verify: clean")
        fi
    else
        printf '%s\n' "$verify_output" >&2
        die "systemd-analyze verify rejects the installed units (above)"
    fi
fi
if systemd_running; then
    systemctl daemon-reload
    for unit in switchboard.socket switchboard-http.socket switchboard.service; do
        if ! systemctl is-enabled --quiet "$unit"; then
            systemctl enable --quiet "$unit"
            changed "enabled $unit"
            systemd_lines+=("enabled $unit")
        fi
    done
    if systemctl is-active --quiet switchboard.service; then
        if [[ $socket_changed == yes ]]; then
            # The daemon may hold the address itself (a release before the HTTP socket unit): stop it
            # first, so that the sockets can bind, then start it on them.
            systemctl stop switchboard.service
            systemctl restart switchboard.socket switchboard-http.socket
            systemctl start switchboard.service
            systemctl is-active --quiet switchboard-http.socket || die "switchboard-http.socket did not start: systemctl status switchboard-http.socket" 
            changed "restarted switchboard"
            systemd_lines+=("restarted the sockets and switchboard.service (upgrade; migrations run at start)")
        elif [[ $restart_needed == yes ]]; then
            systemctl restart switchboard.service
            changed "restarted switchboard"
            systemd_lines+=("restarted switchboard.service (upgrade; migrations run at start)")
        else
            systemd_lines+=("switchboard.service running, nothing to restart")
        fi
    elif ((${#credentials_missing[@]} == 0)); then
        systemctl start switchboard.socket switchboard-http.socket switchboard.service
        changed "started switchboard"
        systemd_lines+=("started the sockets and switchboard.service")
    else
        systemd_lines+=("not started: credentials missing (${credentials_missing[*]})")
    fi
else
    systemd_lines+=("units installed, but systemd is not PID 1 here: nothing enabled or started")
fi
say "$step" "$(join_by "; " "${systemd_lines[@]}")"
if [[ -n ${verify_output:-} ]]; then
    while IFS= read -r line; do detail "$line"; done <<<"$verify_output"
fi
if ! systemd_running; then
    detail "to check the daemon by hand as systemd would run it (its user, a private copy of the credentials):"
    detail "  D=\$(mktemp -d) && install -m 0400 -o switchboard $CREDENTIALS_DIR/* \"\$D\"/ && chown switchboard \"\$D\""
    detail "  install -d -m 0755 -o switchboard -g switchboard-operators /run/switchboard"
    detail "  runuser -u switchboard -- env CREDENTIALS_DIRECTORY=\"\$D\" $PREFIX_BIN/switchboardd run --config $CONFIG"
    detail "then, in another shell: curl -s 127.0.0.1:8080/readyz; switchboardctl status"
fi

# --------------------------------------------------------------------------------------------- 12
step="12 summary"
if ((${#changes[@]} == 1)); then
    echo "changed: 1 thing: ${changes[0]}"
elif ((${#changes[@]} > 1)); then
    echo "changed: ${#changes[@]} things: $(join_by ", " "${changes[@]}")"
else
    echo "nothing changed (already installed)"
fi
cat <<EOF
next steps:
  - edit $CONFIG (queues, rules, agents, SLA policies: docs/configuration.md), check it with
    CREDENTIALS_DIRECTORY=$CREDENTIALS_DIR switchboardd check-config --config $CONFIG
    and apply it with systemctl reload switchboard
  - operators: usermod -aG switchboard-operators <user>   (control socket access; admins by default)
  - place any missing credentials (step 10), then: systemctl start switchboard
  - switchboardctl status; journalctl -u switchboard; curl -s 127.0.0.1:8080/readyz
  - HTTPS in front: deploy/nginx/switchboard.conf (docs/operations.md, "nginx")
EOF
