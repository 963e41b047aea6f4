# bash completion for safeguardctl. Install:
#   cp scripts/safeguardctl-completion.bash /etc/bash_completion.d/safeguardctl
# or source it from ~/.bashrc.

_safeguardctl() {
    local cur prev words cword
    _init_completion -s 2>/dev/null || {
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD-1]}
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
    }

    local global="--socket --json --timeout --help"
    local top="status stats top rules incidents ack extend resolve deactivate reactivate exception blocklist evidence posture config shutdown"

    case $prev in
        --socket) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        --state) COMPREPLY=($(compgen -W "open notified deadline_set extended excepted resolved deactivated reactivated" -- "$cur")); return ;;
        --direction) COMPREPLY=($(compgen -W "inbound outbound internal" -- "$cur")); return ;;
        --type) COMPREPLY=($(compgen -W "bruteforce port_scan sweep spam syn_flood udp_flood icmp_flood fragment_flood amplification reflector signature" -- "$cur")); return ;;
        --for) COMPREPLY=($(compgen -W "1h 24h 3d 7d 30d" -- "$cur")); return ;;
        --timeout|--reason|--who|--peer|--port|--deployment|--sid|--limit|-n) return ;;
    esac

    # The command so far: the words after the program that are not options or their values.
    local cmd=() i w
    for ((i = 1; i < cword; i++)); do
        w=${words[i]}
        case $w in
            --socket|--timeout|--state|--direction|--type|--for|--reason|--who|--peer|--port|--deployment|--sid|--limit|-n) ((i++)) ;;
            -*) ;;
            *) cmd+=("$w") ;;
        esac
    done

    local opts=""
    case "${cmd[*]}" in
        "") COMPREPLY=($(compgen -W "$top $global" -- "$cur")); return ;;
        top) opts="hosts flows" ;;
        rules) opts="reload list" ;;
        incidents) opts="list show" ;;
        exception) opts="add list remove" ;;
        config) opts="show" ;;
        stats) opts="--sum" ;;
        "top hosts"|"top flows") opts="-n" ;;
        "rules list") opts="--sid" ;;
        "incidents list") opts="--state --deployment --type --direction --open --limit" ;;
        ack*) opts="--who" ;;
        extend*) opts="--for --reason --who" ;;
        resolve*|deactivate*|reactivate*) opts="--reason --who" ;;
        "exception add") opts="--deployment --type --direction --peer --port --for --reason --who" ;;
        "exception list") opts="--all" ;;
        "exception remove"*) opts="--reason --who" ;;
        posture) opts="--deployment" ;;
    esac
    COMPREPLY=($(compgen -W "$opts $global" -- "$cur"))
}
complete -F _safeguardctl safeguardctl
