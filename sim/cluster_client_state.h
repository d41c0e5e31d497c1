// Cluster::ClientState, shared by cluster.cc and cluster_jetstream.cc (not part of the API).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "engine/client/client.h"
#include "sim/cluster.h"

namespace herald::sim {

// One client process: its Connection (absent while crashed) and the counters that outlive it.
struct Cluster::ClientState {
    std::unique_ptr<client::Connection> connection;
    std::uint64_t incarnation = 0;  // Timers of an older incarnation do nothing.
    bool up = true;
    std::uint32_t epoch_base = 0;     // Epochs of earlier incarnations.
    std::uint32_t epoch_current = 0;  // Last epoch observed.
    std::uint32_t epoch_reserved = 0;  // Highest epoch a publish was assigned (maybe pending).
    std::size_t epoch_index = 0;      // Its entry in history.epochs.
    bool epoch_open = false;
    std::uint64_t publish_seq = 0;
    std::uint64_t request_seq = 0;
    std::vector<JsPublisher> js_publishers;  // One per ClientSpec::js_publish; outlive crashes.
    std::vector<JsPuller> js_pullers;        // One per ClientSpec::js_consume.
    std::uint32_t js_ready_epoch = 0;        // Connection epoch on which the streams were ensured.
    bool js_ensuring = false;
    std::uint64_t js_ensure_incarnation = 0;
    std::uint64_t respond_seq = 0;
};

}  // namespace herald::sim
