"""The Lua scripts behind :mod:`core.training.queue`: each state change of a shared job is one script,
so Redis runs it atomically and two processes can never both win the same race.

Keys (``NS`` is the namespace, ``dlp`` unless ``DLP_QUEUE_NAME`` says otherwise):

- ``NS:job:ID``: a hash with the job's kind, config, title, status, error, attempt, progress
  numbers and JSON fields; ``NS:job:ID:history``, ``:curve``, ``:log``: JSON lists, appended to;
- ``NS:active:KEY``: the id of the queued or running job for config key KEY (at most one);
- ``NS:last:KEY``: the id of the last job of KEY that ended, to show why it failed;
- ``NS:lease:ID``: the worker's token, with a lease (``PX``) its heartbeat renews;
- ``NS:queued`` (sorted set, for queue positions), ``NS:running`` (set, for the reaper),
  ``NS:ids`` (counter).
"""
from __future__ import annotations

# KEYS: active, ids, queued. ARGV: namespace, key, kind, config, title, retrain, now, first id.
# -> {1, id} for a new job, {0, id} for the one already queued or running. A Redis that restarted
# without its data starts the ids at "first id" (from the clock), so no id is ever given twice and
# a web process never mistakes a new job for one it saw before.
CLAIM = """
local id = redis.call('GET', KEYS[1])
if id then return {0, id} end
if redis.call('EXISTS', KEYS[2]) == 0 then redis.call('SET', KEYS[2], ARGV[8]) end
id = redis.call('INCR', KEYS[2])
redis.call('HSET', ARGV[1] .. ':job:' .. id, 'id', id, 'key', ARGV[2], 'kind', ARGV[3],
           'config', ARGV[4], 'title', ARGV[5], 'retrain', ARGV[6], 'status', 'queued',
           'queued_at', ARGV[7], 'attempt', 0, 'enqueued', 0, 'cancel', 0)
redis.call('SET', KEYS[1], id)
redis.call('ZADD', KEYS[3], id, id)
return {1, id}
"""

# KEYS: job, lease, queued, running, history, curve, log. ARGV: token, lease ms, id, now.
# -> the attempt number (1 = first), or 0 when the job is not waiting (done, cancelled, or
# another worker holds it): a duplicate message is then dropped.
START = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if not redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
local attempt = redis.call('HINCRBY', KEYS[1], 'attempt', 1)
redis.call('HSET', KEYS[1], 'status', 'running', 'started', ARGV[4], 'worker', ARGV[1],
           'step', 0, 'total_steps', 0, 'epoch', 0, 'epochs', 0, 'metrics', '{}', 'message', '',
           'phase', '')
redis.call('DEL', KEYS[5], KEYS[6], KEYS[7])
redis.call('ZREM', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[3])
return attempt
"""

# KEYS: lease, job. ARGV: token, lease ms. -> {1, cancel flag} while the lease is ours, else {0, 0}.
RENEW = """
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return {0, 0} end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, tonumber(redis.call('HGET', KEYS[2], 'cancel') or '0')}
"""

# Ending a job: shared by FINISH, CANCEL and REAP. KEYS[1] job, KEYS[3] active, KEYS[4] last,
# KEYS[5] running, KEYS[6] queued; ARGV[2] status, ARGV[3] error, ARGV[4] now, ARGV[5] id,
# ARGV[6] time to keep the ended job (s).
_END = """
local function finish(status, err)
  redis.call('HSET', KEYS[1], 'status', status, 'error', err, 'finished', ARGV[4])
  redis.call('SREM', KEYS[5], ARGV[5])
  redis.call('ZREM', KEYS[6], ARGV[5])
  if redis.call('GET', KEYS[3]) == ARGV[5] then redis.call('DEL', KEYS[3]) end
  redis.call('SET', KEYS[4], ARGV[5], 'EX', ARGV[6])
  for _, suffix in ipairs({'', ':history', ':curve', ':log'}) do
    redis.call('EXPIRE', KEYS[1] .. suffix, ARGV[6])
  end
end
"""

# KEYS: job, lease, active, last, running, queued. ARGV: token, status, error, now, id, ttl.
# -> 1 if the worker still held the lease and the job ended, 0 if it had lost it (then another
# attempt owns the job and this result is not reported).
FINISH = _END + """
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[2])
finish(ARGV[2], ARGV[3])
return 1
"""

# KEYS: job, lease, active, last, running, queued. ARGV: -, -, error, now, id, ttl.
# -> 'cancelled' (it was waiting), 'cancelling' (the worker will stop it), or the ended status.
CANCEL = _END + """
local status = redis.call('HGET', KEYS[1], 'status')
if status == 'queued' then finish('cancelled', ARGV[3]) return 'cancelled' end
if status == 'running' then redis.call('HSET', KEYS[1], 'cancel', 1) return 'cancelling' end
return status or 'gone'
"""

# The reaper's step for a job in the running set whose worker may be gone.
# KEYS: job, lease, active, last, running, queued. ARGV: -, max attempts, error, now, id, ttl.
# -> 1: requeued (the caller enqueues it again), 0: alive or already ended, -1: given up, -2: cancelled.
REAP = _END + """
local status = redis.call('HGET', KEYS[1], 'status')
if status ~= 'running' then redis.call('SREM', KEYS[5], ARGV[5]) return 0 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
if redis.call('HGET', KEYS[1], 'cancel') == '1' then
  finish('cancelled', 'Training was cancelled.') return -2
end
if tonumber(redis.call('HGET', KEYS[1], 'attempt')) >= tonumber(ARGV[2]) then
  finish('failed', ARGV[3]) return -1
end
redis.call('HSET', KEYS[1], 'status', 'queued', 'enqueued', 0, 'queued_at', ARGV[4])
redis.call('SREM', KEYS[5], ARGV[5])
redis.call('ZADD', KEYS[6], ARGV[5], ARGV[5])
return 1
"""

# KEYS: job. ARGV: now, seconds. -> 1 if a queued job was never handed to the queue (its web
# process died between claiming and enqueueing) for that long, and is now marked as handed.
ADOPT = """
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' then return 0 end
if redis.call('HGET', KEYS[1], 'enqueued') == '1' then return 0 end
if tonumber(ARGV[1]) - tonumber(redis.call('HGET', KEYS[1], 'queued_at')) < tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'enqueued', 1)
return 1
"""
