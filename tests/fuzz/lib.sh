# Shared by brief.sh and run.sh: the libFuzzer flags of a harness, one a line.
# fuzz_flags NAME FUZZDIR
fuzz_flags() {
	local name=$1 dir=$2
	printf '%s\n' -close_fd_mask=3 -timeout=20 -rss_limit_mb=2048 -max_len=65536
	case $name in
	fuzz_push_body | fuzz_enroll_body | fuzz_wire_reply | fuzz_kiosk_apply | fuzz_tzb) printf '%s\n' "-dict=$dir/json.dict" ;;
	esac
}
