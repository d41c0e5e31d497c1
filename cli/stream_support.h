// Shared by the stream, consumer and backup commands: flags onto a StreamConfig, and the
// natscli-style text of stream and consumer infos and stored messages.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cli/args.h"
#include "engine/client/jetstream.h"

namespace herald::cli {

// Applies the stream flags that are present (--subjects, --storage, --max-age ...) to `config`;
// false with `error` on a bad value.
bool apply_stream_flags(const ParsedArgs& args, client::StreamConfig& config, std::string& error);
bool has_stream_flags(const ParsedArgs& args);

// "Information for Stream ORDERS created ..." with the Configuration and State sections.
std::string stream_info_text(const client::StreamInfo& info);
// "Information for Consumer ORDERS > NEW created ..." with Configuration and State.
std::string consumer_info_text(const client::ConsumerInfo& info);

// A stored message as STREAM.MSG.GET's "message" object: subject, seq, hdrs and data in base64,
// time.
nlohmann::json stored_msg_json(const client::StoredMsg& message);

}  // namespace herald::cli
