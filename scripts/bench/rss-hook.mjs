// Preloaded with `node --import` by scripts/bench.mjs when /usr/bin/time is missing: at exit, writes this
// process's peak RSS (KiB) and user/system CPU seconds to $BENCH_RSS_FILE as "maxRSS user system".
import fs from 'node:fs';

const file = process.env.BENCH_RSS_FILE;
if (file) {
  process.on('exit', () => {
    const usage = process.resourceUsage();
    fs.writeFileSync(file, `${usage.maxRSS} ${usage.userCPUTime / 1e6} ${usage.systemCPUTime / 1e6}\n`);
  });
}
