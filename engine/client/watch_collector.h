// WatchCollector: gathers what a KV or object-store watch delivers up to its initial-values
// marker, then stops the watch and hands the items over. KeyValue::keys/history/purge_deletes and
// ObjectStore::list share it. It owns the watcher until the marker (the last watcher handle gone
// would stop the watch early) and drops it before calling back.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "engine/client/jetstream.h"

namespace herald::client::detail {

template <class Item, class Watcher>
struct WatchCollector {
    std::vector<Item> items;
    Watcher watcher;
    bool done = false;
    bool have_watcher = false;
    JsCallback<std::vector<Item>> callback;

    void finish() {
        if (!done || !have_watcher || !callback) return;
        watcher.stop();
        watcher = Watcher();
        auto take = std::move(callback);
        callback = nullptr;
        take(std::move(items));
    }

    // The watch's update handler: `take(entry)` makes the item kept; nullptr is the marker.
    template <class Entry, class Take>
    static auto on_update(const std::shared_ptr<WatchCollector>& self, Take take) {
        return [self, take](const Entry* entry) {
            if (entry == nullptr) {
                self->done = true;
                self->finish();
                return;
            }
            self->items.push_back(take(*entry));
        };
    }

    // The watch's ready handler: keeps the watcher, or reports why the watch failed.
    static auto on_ready(const std::shared_ptr<WatchCollector>& self) {
        return [self](JsResult<Watcher> watcher) {
            if (!watcher) {
                if (self->callback) self->callback(watcher.error());
                self->callback = nullptr;
                return;
            }
            self->watcher = *watcher;
            self->have_watcher = true;
            self->finish();
        };
    }
};

}  // namespace herald::client::detail
