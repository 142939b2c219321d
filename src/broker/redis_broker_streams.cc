// RedisBroker: channels with a stream (the scripts and their keys are in
// redis_stream_scripts.h). A publish is numbered, stored and published by
// one script on the channel's master; a read is one script there too, so
// what it answers is one instant of the stream. The read answers on the
// command connection, so publications numbered before it may still be on
// their way on the pub/sub connection: the hub skips those for the new
// subscriber (LocalRole's skip entries), and keeps for it those fanned out
// while the read was on its way (owner_streams.cc). run_script, here too,
// runs every script of the broker (the plain publish's as well) by EVALSHA.
#include <memory>
#include <utility>

#include "broker/channel_history.h"
#include "broker/redis_broker.h"
#include "broker/redis_broker_links.h"

namespace switchboard::broker {

void RedisBroker::run_script(ShardLinks& links, Script script, std::vector<std::string> arguments, std::size_t keys,
                             std::function<void(const redis::Reply&)> done) {
  const std::size_t index = static_cast<std::size_t>(script);
  const LuaScript& lua = scripts_[index];
  // EVAL until this connection has run the script (then Redis has it
  // cached, and every later command on the connection comes after).
  const bool by_sha = links.scripts_loaded[index];
  // The arguments are kept only if they may be needed again (NOSCRIPT).
  auto kept = by_sha ? std::make_shared<std::vector<std::string>>(std::move(arguments)) : nullptr;
  const std::vector<std::string>& sent = by_sha ? *kept : arguments;
  const std::string key_count = std::to_string(keys);
  std::vector<std::string_view> argv;
  argv.reserve(sent.size() + 3);
  argv.push_back(by_sha ? "EVALSHA" : "EVAL");
  argv.push_back(by_sha ? std::string_view(lua.sha1) : std::string_view(lua.text));
  argv.push_back(key_count);
  for (const std::string& argument : sent) argv.push_back(argument);
  links.commands->command(argv, [this, &links, script, index, by_sha, keys, kept = std::move(kept),
                                 done = std::move(done)](const redis::Reply& reply) mutable {
    if (by_sha && is_noscript(reply)) {
      // Redis lost its script cache (SCRIPT FLUSH): the text again. A
      // publish sent meanwhile may be numbered before this one.
      links.scripts_loaded[index] = false;
      run_script(links, script, std::move(*kept), keys, std::move(done));
      return;
    }
    if (!by_sha && !reply.is_error()) links.scripts_loaded[index] = true;
    done(reply);
  });
}

void RedisBroker::publish_to_stream(unsigned owner_worker, const Publication& publication, PublishDone done) {
  const std::string redis_channel = channel_key(publication.channel);
  std::vector<std::string> arguments = {stream_meta_key(publication.channel), stream_key(publication.channel)};
  for (std::string& argument :
       stream_publish_arguments(redis_channel, node_id_, publication, make_epoch(workers_[owner_worker]->epochs()),
                                stream_meta_ttl_ms(options_.offset_ttl_ms, publication.history)))
    arguments.push_back(std::move(argument));
  run_script(links_for(owner_worker, redis_channel), Script::kStreamPublish, std::move(arguments), 2,
             // Channel and data kept for the fallback: if Redis cannot take
             // it, this node's subscribers still get it, unnumbered.
             [this, owner_worker, channel = std::string(publication.channel), data = std::string(publication.data_json),
              exclude = publication.exclude_client, done = std::move(done)](const redis::Reply& reply) {
               if (std::optional<StreamPublishReply> numbered = parse_stream_publish_reply(reply)) {
                 done({PublishStatus::kAccepted, numbered->offset, std::move(numbered->epoch)});
                 return;
               }
               note_moved(reply);
               sink_->on_publication(owner_worker, Publication{channel, 0, data, exclude});
               done({PublishStatus::kLocalOnly, 0, {}});
             });
}

void RedisBroker::read_stream(unsigned owner_worker, std::string_view channel, const StreamQuery& query,
                              StreamDone done) {
  if (!query.history.enabled()) {
    done(StreamAnswer{.status = StreamStatus::kNoStream});
    return;
  }
  const std::string meta = stream_meta_key(channel);
  std::vector<std::string> arguments = {meta, stream_key(channel)};
  for (std::string& argument : stream_read_arguments(query, make_epoch(workers_[owner_worker]->epochs()),
                                                     stream_meta_ttl_ms(options_.offset_ttl_ms, query.history)))
    arguments.push_back(std::move(argument));
  run_script(links_for(owner_worker, meta), Script::kStreamRead, std::move(arguments), 2,
             [this, done = std::move(done)](const redis::Reply& reply) {
               if (std::optional<StreamAnswer> answer = parse_stream_read_reply(reply)) {
                 done(std::move(*answer));
                 return;
               }
               note_moved(reply);
               done(StreamAnswer{.status = StreamStatus::kUnavailable});
             });
}

}  // namespace switchboard::broker
