#include "cli/commands.h"

#include <cstdio>

#include <fmt/format.h>

namespace herald::cli {
namespace {

constexpr FlagSpec global_flag_table[] = {
    {"server",
     's',
     "URL",
     "NATS server URL(s), comma separated (default nats://127.0.0.1:4222, or $NATS_URL)"},
    {"user", 0, "USER", "username"},
    {"password", 0, "PASSWORD", "password"},
    {"token", 0, "TOKEN", "authentication token"},
    {"timeout",
     0,
     "DURATION",
     "connect and response timeout, a Go duration like 2s or 500ms (default 5s)"},
    {"name", 0, "NAME", "connection name shown by the server (default herald)"},
    {"help", 'h', "", "show help (also: herald <command> --help)"},
    {"version", 0, "", "show the version"},
};

constexpr FlagSpec pub_flags[] = {
    {"count", 0, "N", "publish N messages (default 1)"},
    {"sleep", 0, "DURATION", "wait this long between messages"},
    {"header", 'H', "KEY:VALUE", "add a header (repeatable)", true},
    {"reply", 0, "SUBJECT", "reply subject"},
};

constexpr FlagSpec sub_flags[] = {
    {"queue", 0, "GROUP", "join this queue group"},
    {"count", 0, "N", "exit after N messages"},
    {"raw", 0, "", "print only message bodies, one a line"},
};

constexpr FlagSpec req_flags[] = {
    {"header", 'H', "KEY:VALUE", "add a header (repeatable)", true},
    {"raw", 0, "", "print only the reply body"},
};

constexpr FlagSpec reply_flags[] = {
    {"echo", 0, "", "answer with the request's body and headers"},
    {"queue", 0, "GROUP", "queue group (default NATS-RPLY-22, as the nats CLI)"},
    {"count", 0, "N", "exit after answering N requests"},
    {"header", 'H', "KEY:VALUE", "add a header to each answer (repeatable)", true},
    {"raw", 0, "", "print only request bodies"},
};

constexpr FlagSpec ping_flags[] = {
    {"count", 0, "N", "number of pings (default 5)"},
};

constexpr FlagSpec bench_flags[] = {
    {"pub", 0, "N", "publisher connections (default 1); requesters with --request"},
    {"sub", 0, "N", "subscriber connections (default 0); responders with --request (default 1)"},
    {"msgs", 0, "N", "messages published in total, split over the publishers (default 100000)"},
    {"size", 0, "BYTES", "payload size, e.g. 16, 128, 1KB (default 128)"},
    {"request", 0, "", "request/reply latency instead of throughput"},
    {"warmup", 0, "N", "untimed requests per requester first, with --request (default 100)"},
    {"json", 0, "", "print one JSON object for reports (no progress bar)"},
    {"no-progress", 0, "", "no progress bar even on a terminal"},
    {"js", 0, "", "JetStream: publish into a stream (PubAcks), --sub pullers consume it"},
    {"syncpub", 0, "", "--js: wait for each PubAck before the next publish"},
    {"pubbatch", 0, "N", "--js: async PubAcks outstanding per publisher (default 100)"},
    {"pull", 0, "", "--js: pull consumers (the only kind; accepted as in nats bench)"},
    {"pullbatch", 0, "N", "--js: messages per pull request (default 100)"},
    {"stream", 0, "NAME", "--js: the stream (default benchstream; created on SUBJECT)"},
    {"storage", 0, "file|memory", "--js: the stream's storage (default file)"},
    {"replicas", 0, "N", "--js: the stream's replicas (default 1)"},
    {"purge", 0, "", "--js: purge the stream first if it holds messages"},
};

// The stream settings `stream add` and `stream edit` share.
// clang-format off
#define HERALD_STREAM_CONFIG_FLAGS                                                              \
    {"subjects", 0, "SUBJECTS", "subjects the stream stores, comma separated (default: NAME)"}, \
    {"description", 0, "TEXT", "description"},                                                  \
    {"storage", 0, "file|memory", "storage backend (default file)"},                            \
    {"retention", 0, "limits|interest|work", "retention policy (default limits)"},              \
    {"discard", 0, "old|new", "what to discard at a limit (default old)"},                      \
    {"max-msgs", 0, "N", "most messages kept, -1 unlimited (default)"},                         \
    {"max-msgs-per-subject", 0, "N", "most messages per subject, -1 unlimited (default)"},      \
    {"max-bytes", 0, "SIZE", "most bytes kept, e.g. 1GB; -1 unlimited (default)"},              \
    {"max-age", 0, "DURATION", "oldest message kept, e.g. 1h, 30d, 1y; 0 unlimited"},           \
    {"max-msg-size", 0, "SIZE", "largest message accepted; -1 unlimited (default)"},            \
    {"max-consumers", 0, "N", "most consumers, -1 unlimited (default)"},                        \
    {"dupe-window", 0, "DURATION", "duplicate detection window (server default 2m)"},           \
    {"replicas", 0, "N", "replicas, 1 to 5 (default 1)"},                                       \
    {"allow-rollup", 0, "", "allow Nats-Rollup headers"},                                       \
    {"deny-delete", 0, "", "forbid deleting single messages"},                                  \
    {"deny-purge", 0, "", "forbid purging"},                                                    \
    {"allow-direct", 0, "", "allow DIRECT.GET reads"}
// clang-format on

constexpr FlagSpec stream_add_flags[] = {
    HERALD_STREAM_CONFIG_FLAGS,
    {"defaults", 0, "", "take the defaults for everything not given (else those are required)"},
    {"config", 0, "FILE", "create from a JSON stream configuration (as stream info --json shows)"},
    {"json", 0, "", "print the server's JSON instead of the summary"},
};

constexpr FlagSpec stream_edit_flags[] = {
    HERALD_STREAM_CONFIG_FLAGS,
    {"config", 0, "FILE", "replace the configuration with this JSON file"},
    {"json", 0, "", "print the server's JSON instead of the summary"},
};

#undef HERALD_STREAM_CONFIG_FLAGS

constexpr FlagSpec stream_ls_flags[] = {
    {"subject", 0, "SUBJECT", "only streams that store this subject"},
    {"names", 'n', "", "names only, one a line"},
    {"json", 0, "", "the names as a JSON array"},
};

constexpr FlagSpec consumer_ls_flags[] = {
    {"names", 'n', "", "names only, one a line"},
    {"json", 0, "", "the names as a JSON array"},
};

constexpr FlagSpec json_flag[] = {
    {"json", 0, "", "print the server's JSON"},
};

constexpr FlagSpec force_flag[] = {
    {"force", 'f', "", "do it (required: there are no prompts)"},
};

constexpr FlagSpec stream_purge_flags[] = {
    {"force", 'f', "", "do it (required: there are no prompts)"},
    {"subject", 0, "SUBJECT", "only messages on this subject (wildcards allowed)"},
    {"seq", 0, "SEQ", "only messages below this sequence"},
    {"keep", 0, "N", "keep the last N messages"},
    {"json", 0, "", "print the stream's JSON afterwards"},
};

constexpr FlagSpec stream_get_flags[] = {
    {"last-for", 0, "SUBJECT", "the last message on SUBJECT instead of a sequence"},
    {"json", 0, "", "the server's message JSON (headers and data in base64)"},
};

constexpr FlagSpec consumer_add_flags[] = {
    {"pull", 0, "", "a pull consumer"},
    {"target", 0, "SUBJECT", "a push consumer delivering to SUBJECT"},
    {"deliver-group", 0, "GROUP", "push: deliver to this queue group"},
    {"description", 0, "TEXT", "description"},
    {"filter", 0, "SUBJECT", "only messages on this subject ('' for all)"},
    {"deliver",
     0,
     "POLICY",
     "all, last, new, last-per-subject, a start sequence, or a duration like 1h"},
    {"ack", 0, "explicit|all|none", "acknowledgement policy"},
    {"replay", 0, "instant|original", "replay policy (push)"},
    {"wait", 0, "DURATION", "acknowledgement wait (server default 30s)"},
    {"max-deliver", 0, "N", "most deliveries of a message, -1 unlimited"},
    {"max-pending", 0, "N", "most unacknowledged messages (max_ack_pending)"},
    {"max-waiting", 0, "N", "pull: most waiting pull requests"},
    {"heartbeat", 0, "DURATION", "push: idle heartbeat interval"},
    {"flow-control", 0, "", "push: flow control"},
    {"inactive-threshold", 0, "DURATION", "delete the consumer after this long without interest"},
    {"defaults", 0, "", "pull, deliver all, ack explicit and server defaults for the rest"},
    {"json", 0, "", "print the server's JSON instead of the summary"},
};

constexpr FlagSpec consumer_next_flags[] = {
    {"count", 0, "N", "fetch N messages, one at a time (default 1)"},
    {"ack", 0, "", "acknowledge each message (the default)"},
    {"no-ack", 0, "", "do not acknowledge"},
    {"wait", 0, "DURATION", "how long to wait for each message (default --timeout)"},
    {"raw", 0, "", "print only message bodies"},
};

constexpr FlagSpec kv_add_flags[] = {
    {"history", 0, "N", "revisions kept per key, 1 to 64 (default 1)"},
    {"ttl", 0, "DURATION", "how long a value lives, e.g. 1h (default forever)"},
    {"max-value-size", 0, "SIZE", "largest value, -1 unlimited (default)"},
    {"max-bucket-size", 0, "SIZE", "most bytes in the bucket, -1 unlimited (default)"},
    {"storage", 0, "file|memory", "storage backend (default file)"},
    {"replicas", 0, "N", "replicas (default 1)"},
    {"description", 0, "TEXT", "description"},
};

constexpr FlagSpec kv_get_flags[] = {
    {"revision", 0, "N", "this revision instead of the latest"},
    {"raw", 0, "", "print only the value"},
};

constexpr FlagSpec kv_del_flags[] = {
    {"force", 'f', "", "do it (required: there are no prompts)"},
    {"purge", 0, "", "purge: also remove the key's earlier revisions"},
};

constexpr FlagSpec kv_watch_flags[] = {
    {"count", 0, "N", "exit after N entries"},
    {"history", 0, "", "every stored revision first, not only the latest"},
    {"updates-only", 0, "", "only changes made after the watch started"},
};

constexpr FlagSpec names_flag[] = {
    {"names", 'n', "", "names only, one a line"},
};

constexpr FlagSpec object_add_flags[] = {
    {"ttl", 0, "DURATION", "how long an object lives (default forever)"},
    {"max-bucket-size", 0, "SIZE", "most bytes in the bucket, -1 unlimited (default)"},
    {"storage", 0, "file|memory", "storage backend (default file)"},
    {"replicas", 0, "N", "replicas (default 1)"},
    {"description", 0, "TEXT", "description"},
};

constexpr FlagSpec object_put_flags[] = {
    {"name", 0, "NAME", "the object's name (default: the file's base name; required for stdin)"},
    {"description", 0, "TEXT", "description"},
};

constexpr FlagSpec object_get_flags[] = {
    {"output", 'O', "FILE", "write here (default: the object's base name; - for stdout)"},
    {"force", 'f', "", "overwrite an existing file"},
};

constexpr std::string_view stream_add_details =
    "Creates a stream. There are no prompts: every value natscli would ask for (--subjects,\n"
    "--storage, --replicas, --retention, --discard, --max-msgs, --max-msgs-per-subject,\n"
    "--max-bytes, --max-age, --max-msg-size, --dupe-window) must be given, or --defaults takes\n"
    "the defaults (subjects = NAME, file, limits, old, unlimited). --config FILE sends a JSON\n"
    "configuration as it is (its name is set to NAME). Prints the stream's information.";
constexpr std::string_view stream_edit_details =
    "Changes the given settings of an existing stream (STREAM.UPDATE with the current\n"
    "configuration and these flags), or replaces it with --config FILE. The server refuses\n"
    "changes it does not allow (storage, retention ...) and its error is printed (exit 1).";
constexpr std::string_view stream_backup_details =
    "Saves the stream's configuration and every message stored now (subject, headers, data,\n"
    "sequence, time) to DIR: backup.json and messages.jsonl. Done by the client, one\n"
    "STREAM.MSG.GET per message (Herald has no STREAM.SNAPSHOT); messages stored after the\n"
    "backup started are left out. Consumers are not saved. DIR must not hold a backup.";
constexpr std::string_view stream_restore_details =
    "Recreates a stream saved by 'stream backup' and publishes its messages again. The stream\n"
    "must not exist. Sequence numbers are kept: the first sequence is set with a purge, and\n"
    "each deleted sequence between stored messages is recreated as a deletion (an empty\n"
    "message, then MSG.DELETE). Not kept: the stored times (the server stamps new ones, so\n"
    "max-age counts from the restore), deleted sequences after the last message, consumers.\n"
    "Nats-Expected-* headers are dropped; a message whose Nats-Msg-Id is taken for a duplicate\n"
    "stops the restore with an error. Streams with a mirror or sources are refused.";
constexpr std::string_view consumer_add_details =
    "Creates a durable consumer NAME on STREAM. There are no prompts: give --pull or --target,\n"
    "--deliver, --ack, --filter, --max-deliver, --max-pending (and --replay for push), or\n"
    "--defaults (pull, deliver all, ack explicit, server defaults for the rest).";
constexpr std::string_view consumer_next_details =
    "Fetches messages from a pull consumer, one request per message, and acknowledges each\n"
    "(the acknowledgement is confirmed by a flush before 'Acknowledged message' is printed).\n"
    "No message within --wait is a failure (exit 1).";

constexpr std::string_view pub_details =
    "Publishes BODY (or standard input when BODY is omitted) to SUBJECT. The body and header\n"
    "values are templates: {{Count}} is the 1-based message number; also {{TimeStamp}},\n"
    "{{Unix}}, {{UnixNano}}, {{Time}}, {{ID}} and {{Random MIN MAX}}.";
constexpr std::string_view sub_details =
    "Prints every message on SUBJECT (wildcards * and > allowed): subject, reply, headers and\n"
    "body. Ctrl-C drains the subscription and exits with status 0.";
constexpr std::string_view req_details =
    "Sends one request and prints the reply body (headers first, if any). Progress lines go to\n"
    "standard error. With nobody listening it says \"no responders available for request\" and\n"
    "exits with status 1; without a reply within --timeout it exits with status 1 as well.";
constexpr std::string_view reply_details =
    "Answers requests on SUBJECT with BODY (a template: {{Count}}, {{Request}} for the request\n"
    "body, ...) or, with --echo, with the request itself. Prints each request. Ctrl-C drains and\n"
    "exits with status 0.";
constexpr std::string_view ping_details =
    "Measures the round trip to the server (PING/PONG after the connection is up).";
constexpr std::string_view info_details =
    "Prints the INFO the server sends to a new connection, as indented JSON.";
constexpr std::string_view bench_details =
    "Throughput: --sub subscribers (subscribed before the start) and --pub publishers, each on\n"
    "its own connection and thread, publish --msgs messages of --size bytes in total. The publish\n"
    "rate counts from the common start to the last publisher's flush (PING/PONG); the receive\n"
    "rate counts every message received by every subscriber up to the last one. MB is 10^6 B.\n"
    "Latency (--request): --sub responders in a queue group answer --pub requesters making\n"
    "sequential requests of --size bytes; prints percentiles of the round trip.\n"
    "A progress bar is shown when standard output is a terminal; otherwise a plain summary.\n"
    "JetStream (--js): creates the stream --stream on SUBJECT (an existing one must be empty,\n"
    "or --purge), then --pub publishers publish --msgs messages in total, async with --pubbatch\n"
    "PubAcks outstanding (or --syncpub: one at a time), while --sub pullers share one durable\n"
    "pull consumer (ack explicit), fetching --pullbatch at a time and acking each message. The\n"
    "publish rate counts to the last PubAck; the pull rate to the last message pulled. Every\n"
    "PubAck is checked, and after the run the stream must hold --msgs messages and the\n"
    "consumer's ack floor must be the last one. No progress bar with --js.";

constexpr Command command_table[] = {
    {"pub",
     "SUBJECT [BODY]",
     "publish a message (or many)",
     pub_details,
     pub_flags,
     "  herald pub orders.new 'hello'\n"
     "  herald pub orders.new 'order {{Count}} at {{TimeStamp}}' --count 10 --sleep 100ms\n"
     "  herald pub orders.new -H Trace:abc -H Source:cli 'with headers'\n"
     "  echo 'from stdin' | herald pub orders.new",
     1,
     2,
     run_pub},
    {"sub",
     "SUBJECT",
     "subscribe and print messages",
     sub_details,
     sub_flags,
     "  herald sub 'orders.>'\n"
     "  herald sub orders.new --queue workers --count 10\n"
     "  herald sub orders.new --raw",
     1,
     1,
     run_sub},
    {"req",
     "SUBJECT [BODY]",
     "send a request and print the reply",
     req_details,
     req_flags,
     "  herald req time.now ''\n"
     "  herald req echo 'hello' --timeout 500ms -H Trace:abc",
     1,
     2,
     run_req},
    {"reply",
     "SUBJECT [BODY]",
     "answer requests with a fixed body or an echo",
     reply_details,
     reply_flags,
     "  herald reply time.now 'it is {{Time}}'\n"
     "  herald reply echo --echo\n"
     "  herald reply service 'answer {{Count}}' --queue service --count 100",
     1,
     2,
     run_reply},
    {"server ping",
     "",
     "measure the round trip to the server",
     ping_details,
     ping_flags,
     "  herald server ping\n"
     "  herald -s nats://10.0.0.5:4222 server ping --count 3",
     0,
     0,
     run_server_ping},
    {"server info",
     "",
     "show the server's INFO",
     info_details,
     {},
     "  herald server info",
     0,
     0,
     run_server_info},
    {"bench",
     "SUBJECT",
     "measure throughput or request latency",
     bench_details,
     bench_flags,
     "  herald bench test --pub 1 --msgs 1000000 --size 16\n"
     "  herald bench test --pub 2 --sub 2 --msgs 1000000 --size 128\n"
     "  herald bench test --request --msgs 10000 --size 16 --json\n"
     "  herald bench js.test --js --pub 1 --sub 1 --pull --msgs 100000 --size 128 --storage "
     "memory\n"
     "  herald bench js.test --js --syncpub --msgs 10000 --stream SYNCBENCH --purge --json",
     1,
     1,
     run_bench},
    {"stream add",
     "NAME",
     "create a stream",
     stream_add_details,
     stream_add_flags,
     "  herald stream add ORDERS --subjects 'orders.*' --defaults\n"
     "  herald stream add ORDERS --subjects 'orders.*' --storage memory --retention limits \\\n"
     "      --discard old --replicas 1 --max-msgs 1000000 --max-msgs-per-subject -1 \\\n"
     "      --max-bytes 1GB --max-age 7d --max-msg-size 1MB --dupe-window 2m\n"
     "  herald stream add ORDERS --config orders.json",
     1,
     1,
     run_stream_add},
    {"stream ls",
     "",
     "list the streams",
     "A table of the streams (name, description, created, messages, size, last message).",
     stream_ls_flags,
     "  herald stream ls\n"
     "  herald stream ls --names\n"
     "  herald stream ls --subject 'orders.new' --json",
     0,
     0,
     run_stream_ls},
    {"stream info",
     "NAME",
     "show a stream's configuration and state",
     "The stream's configuration and state as natscli prints them; --json prints the server's "
     "reply.",
     json_flag,
     "  herald stream info ORDERS\n"
     "  herald stream info ORDERS --json",
     1,
     1,
     run_stream_info},
    {"stream edit",
     "NAME",
     "change a stream's configuration",
     stream_edit_details,
     stream_edit_flags,
     "  herald stream edit ORDERS --max-msgs 5000 --subjects 'orders.*,returns.*'\n"
     "  herald stream edit ORDERS --config orders.json",
     1,
     1,
     run_stream_edit},
    {"stream rm",
     "NAME",
     "delete a stream and its messages",
     "Deletes the stream. Needs --force (there are no prompts).",
     force_flag,
     "  herald stream rm ORDERS -f",
     1,
     1,
     run_stream_rm},
    {"stream purge",
     "NAME",
     "remove messages from a stream",
     "Removes all messages, or those on --subject, below --seq, or all but the last --keep.\n"
     "Needs --force. Prints how many went and the stream's information.",
     stream_purge_flags,
     "  herald stream purge ORDERS -f\n"
     "  herald stream purge ORDERS -f --subject orders.old --keep 10",
     1,
     1,
     run_stream_purge},
    {"stream get",
     "NAME [SEQ]",
     "show one stored message",
     "Reads the message at SEQ, or the last one on --last-for SUBJECT (STREAM.MSG.GET).",
     stream_get_flags,
     "  herald stream get ORDERS 12\n"
     "  herald stream get ORDERS --last-for orders.new --json",
     1,
     2,
     run_stream_get},
    {"stream backup",
     "NAME DIR",
     "save a stream's configuration and messages to a directory",
     stream_backup_details,
     {},
     "  herald stream backup ORDERS /backups/orders",
     2,
     2,
     run_stream_backup},
    {"stream restore",
     "DIR",
     "recreate a stream from a backup directory",
     stream_restore_details,
     {},
     "  herald stream restore /backups/orders",
     1,
     1,
     run_stream_restore},
    {"consumer add",
     "STREAM NAME",
     "create a durable consumer",
     consumer_add_details,
     consumer_add_flags,
     "  herald consumer add ORDERS NEW --defaults\n"
     "  herald consumer add ORDERS NEW --pull --filter orders.new --deliver all --ack explicit \\\n"
     "      --max-deliver -1 --max-pending 1000 --wait 30s\n"
     "  herald consumer add ORDERS MONITOR --target monitor.orders --deliver new --ack none \\\n"
     "      --replay instant --filter '' --max-deliver -1 --max-pending 0",
     2,
     2,
     run_consumer_add},
    {"consumer ls",
     "STREAM",
     "list a stream's consumers",
     "A table of the stream's consumers; --names or --json for the names only.",
     consumer_ls_flags,
     "  herald consumer ls ORDERS\n"
     "  herald consumer ls ORDERS --names",
     1,
     1,
     run_consumer_ls},
    {"consumer info",
     "STREAM NAME",
     "show a consumer's configuration and state",
     "The consumer's configuration and state as natscli prints them; --json prints the server's "
     "reply.",
     json_flag,
     "  herald consumer info ORDERS NEW\n"
     "  herald consumer info ORDERS NEW --json",
     2,
     2,
     run_consumer_info},
    {"consumer rm",
     "STREAM NAME",
     "delete a consumer",
     "Deletes the consumer. Needs --force (there are no prompts).",
     force_flag,
     "  herald consumer rm ORDERS NEW -f",
     2,
     2,
     run_consumer_rm},
    {"consumer next",
     "STREAM NAME",
     "fetch messages from a pull consumer",
     consumer_next_details,
     consumer_next_flags,
     "  herald consumer next ORDERS NEW\n"
     "  herald consumer next ORDERS NEW --count 10 --raw\n"
     "  herald consumer next ORDERS NEW --no-ack --wait 1s",
     2,
     2,
     run_consumer_next},
    {"kv add",
     "BUCKET",
     "create a key-value bucket",
     "Creates the bucket (stream KV_BUCKET on $KV.BUCKET.>, as nats.go) and prints its status.",
     kv_add_flags,
     "  herald kv add CONFIG\n"
     "  herald kv add CONFIG --history 5 --ttl 1h --storage memory",
     1,
     1,
     run_kv_add},
    {"kv info",
     "BUCKET",
     "show a bucket's status",
     "The bucket's configuration and size; --json prints the stream info reply.",
     json_flag,
     "  herald kv info CONFIG",
     1,
     1,
     run_kv_info},
    {"kv put",
     "BUCKET KEY [VALUE]",
     "store a value",
     "Stores VALUE (or standard input) under KEY and prints it; the revision goes to stderr.",
     {},
     "  herald kv put CONFIG username bob\n"
     "  echo -n secret | herald kv put CONFIG password",
     2,
     3,
     run_kv_put},
    {"kv get",
     "BUCKET KEY",
     "show a key's value",
     "The latest value (or --revision N). A deleted or missing key is a failure (exit 1).",
     kv_get_flags,
     "  herald kv get CONFIG username\n"
     "  herald kv get CONFIG username --raw --revision 3",
     2,
     2,
     run_kv_get},
    {"kv del",
     "BUCKET [KEY]",
     "delete a key, or a whole bucket",
     "Writes a delete marker for KEY (history kept), or with --purge a purge marker; without\n"
     "KEY deletes the bucket and its values. Needs --force.",
     kv_del_flags,
     "  herald kv del CONFIG username -f\n"
     "  herald kv del CONFIG -f",
     1,
     2,
     run_kv_del},
    {"kv history",
     "BUCKET KEY",
     "show every stored revision of a key",
     "A table of the key's revisions, deletes and purges included; --json for a list.",
     json_flag,
     "  herald kv history CONFIG username",
     2,
     2,
     run_kv_history},
    {"kv watch",
     "BUCKET [KEY]",
     "print changes to a bucket",
     "Prints the latest value of each matching key (KEY may hold * and >), then every change,\n"
     "until Ctrl-C or --count entries. 'Watching BUCKET > KEY' on stderr once it is set up.",
     kv_watch_flags,
     "  herald kv watch CONFIG\n"
     "  herald kv watch CONFIG 'user.*' --count 10",
     1,
     2,
     run_kv_watch},
    {"kv ls",
     "[BUCKET]",
     "list the buckets, or a bucket's keys",
     "Without BUCKET a table of the buckets (--names: names only); with BUCKET its keys.",
     names_flag,
     "  herald kv ls\n"
     "  herald kv ls CONFIG",
     0,
     1,
     run_kv_ls},
    {"kv rm",
     "BUCKET [KEY]",
     "the same as kv del",
     "An alias of 'kv del', as in natscli: without KEY it deletes the bucket. Needs --force.",
     kv_del_flags,
     "  herald kv rm CONFIG -f",
     1,
     2,
     run_kv_rm},
    {"object add",
     "BUCKET",
     "create an object store bucket",
     "Creates the bucket (stream OBJ_BUCKET, as nats.go) and prints its status.",
     object_add_flags,
     "  herald object add FILES\n"
     "  herald object add FILES --storage memory --max-bucket-size 1GB",
     1,
     1,
     run_object_add},
    {"object info",
     "BUCKET [NAME]",
     "show a bucket's status or an object's information",
     "The bucket's status, or with NAME the object's size, chunks, digest and time.",
     {},
     "  herald object info FILES\n"
     "  herald object info FILES report.pdf",
     1,
     2,
     run_object_info},
    {"object put",
     "BUCKET [FILE]",
     "store a file",
     "Stores FILE (or standard input with --name) in 128 KiB chunks with its SHA-256 digest.",
     object_put_flags,
     "  herald object put FILES ./report.pdf\n"
     "  tar c dir | herald object put FILES --name dir.tar",
     1,
     2,
     run_object_put},
    {"object get",
     "BUCKET NAME",
     "fetch an object to a file",
     "Reads the object, checks its size and digest, and writes it to --output (default: its\n"
     "base name; an existing file needs --force; - writes to standard output).",
     object_get_flags,
     "  herald object get FILES report.pdf\n"
     "  herald object get FILES report.pdf -O - > copy.pdf",
     2,
     2,
     run_object_get},
    {"object ls",
     "[BUCKET]",
     "list the object stores, or a bucket's objects",
     "Without BUCKET the buckets' names; with BUCKET a table of its objects (--names: names only).",
     names_flag,
     "  herald object ls\n"
     "  herald object ls FILES",
     0,
     1,
     run_object_ls},
    {"object rm",
     "BUCKET [NAME]",
     "delete an object, or a whole bucket",
     "Deletes the object NAME (its chunks are purged), or without NAME the bucket. Needs --force.",
     force_flag,
     "  herald object rm FILES report.pdf -f\n"
     "  herald object rm FILES -f",
     1,
     2,
     run_object_rm},
};

}  // namespace

std::span<const Command> commands() {
    return command_table;
}
std::span<const FlagSpec> global_flags() {
    return global_flag_table;
}

int usage_error(std::string_view command, std::string_view what) {
    std::fflush(stdout);
    std::fprintf(stderr,
                 "herald %.*s: %.*s\nRun 'herald %.*s --help' for usage.\n",
                 static_cast<int>(command.size()),
                 command.data(),
                 static_cast<int>(what.size()),
                 what.data(),
                 static_cast<int>(command.size()),
                 command.data());
    return exit_usage;
}

std::optional<std::uint64_t> count_flag(const ParsedArgs& args,
                                        std::string_view name,
                                        std::uint64_t fallback,
                                        std::string& error) {
    const auto text = args.value(name);
    if (!text) return fallback;
    const auto value = parse_count(*text);
    if (!value) error = fmt::format("bad value for --{}: '{}' (a whole number)", name, *text);
    return value;
}

std::optional<Duration> duration_flag(const ParsedArgs& args,
                                      std::string_view name,
                                      Duration fallback,
                                      std::string& error) {
    const auto text = args.value(name);
    if (!text) return fallback;
    const auto value = parse_duration(*text);
    if (!value) {
        error = fmt::format(
            "bad value for --{}: '{}' (a duration like 2s, 500ms or 1m30s)", name, *text);
    }
    return value;
}

std::optional<client::Headers> header_flags(const ParsedArgs& args, std::string& error) {
    client::Headers headers;
    for (const std::string& text : args.values("header")) {
        const auto colon = text.find(':');
        std::string key = colon == std::string::npos ? std::string{} : text.substr(0, colon);
        std::string value = colon == std::string::npos ? std::string{} : text.substr(colon + 1);
        while (!value.empty() && value.front() == ' ')
            value.erase(0, 1);
        if (key.empty()) {
            error = fmt::format("bad value for -H: '{}' (use KEY:VALUE)", text);
            return std::nullopt;
        }
        headers.add(std::move(key), std::move(value));
    }
    if (const Status valid = headers.validate(); !valid) {
        error = fmt::format("bad header: {}", valid.error().message());
        return std::nullopt;
    }
    return headers;
}

void print_message(const client::Message& message, std::uint64_t index, bool raw) {
    std::string out;
    if (raw) {
        out = message.payload;
        out += '\n';
    } else {
        out = fmt::format("[#{}] Received on \"{}\"", index, message.subject);
        if (!message.reply.empty()) out += fmt::format(" with reply \"{}\"", message.reply);
        out += '\n';
        if (message.has_headers) {
            if (!message.headers.status().empty()) {
                out += fmt::format(
                    "NATS/1.0 {} {}\n", message.headers.status(), message.headers.description());
            }
            for (const auto& [key, value] : message.headers.fields()) {
                out += fmt::format("{}: {}\n", key, value);
            }
            out += '\n';
        }
        out += message.payload;
        out += "\n\n";
    }
    std::fwrite(out.data(), 1, out.size(), stdout);
    std::fflush(stdout);
}

}  // namespace herald::cli
