// A TCP proxy in front of rmm serve that replays WebSocket answers at a set
// token rate: everything passes through untouched, except that on a
// connection upgraded at /api/ws the server's frames are held until an answer
// completes and then released one token frame per interval. The page sees the
// real server's messages as a model of exactly that speed would send them,
// whatever this machine's own speed. Compression is asked off so that frames
// can be read.
import net from "node:net";

// One server-to-client frame (servers never mask): its length, or 0 when incomplete.
function frameLength(buf) {
  if (buf.length < 2) return 0;
  let len = buf[1] & 0x7f;
  let head = 2;
  if (len === 126) {
    if (buf.length < 4) return 0;
    len = buf.readUInt16BE(2);
    head = 4;
  } else if (len === 127) {
    if (buf.length < 10) return 0;
    len = Number(buf.readBigUInt64BE(2));
    head = 10;
  }
  return buf.length >= head + len ? head + len : 0;
}

function frameText(frame) {
  let head = 2;
  const len = frame[1] & 0x7f;
  if (len === 126) head = 4;
  else if (len === 127) head = 10;
  return frame.subarray(head).toString("latin1");
}

export async function startPacedProxy(target, tokensPerSecond) {
  const interval = 1000 / tokensPerSecond;
  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    let first = true;
    let ws = false;
    let headerDone = false;
    let pending = Buffer.alloc(0);
    let held = [];
    client.on("data", (d) => {
      if (first) {
        first = false;
        let text = d.toString("latin1");
        ws = /^GET \/api\/ws[ ?]/.test(text);
        if (ws) {
          text = text.replace(/\r\nSec-WebSocket-Extensions:[^\r]*/i, "");
          d = Buffer.from(text, "latin1");
        }
      }
      upstream.write(d);
    });
    upstream.on("data", (d) => {
      if (!ws) return client.write(d);
      pending = Buffer.concat([pending, d]);
      if (!headerDone) {
        const end = pending.indexOf("\r\n\r\n");
        if (end < 0) return;
        client.write(pending.subarray(0, end + 4));
        pending = pending.subarray(end + 4);
        headerDone = true;
      }
      for (let n = frameLength(pending); n; n = frameLength(pending)) {
        const frame = pending.subarray(0, n);
        pending = pending.subarray(n);
        const text = frameText(frame);
        const type = text.match(/"type":"([a-z_]+)"/)?.[1] ?? "";
        if (type !== "token" && type !== "complete" && type !== "error" && !held.length) {
          client.write(frame);
          continue;
        }
        held.push([type, frame]);
        if (type !== "complete" && type !== "error") continue;
        const out = held;
        held = [];
        const t0 = performance.now();
        let i = 0;
        let tokens = 0;
        const release = () => {
          // Every frame due by now, so timer lateness never lowers the average rate.
          const due = Math.floor((performance.now() - t0) / interval) + 1;
          for (; i < out.length; i++) {
            if (out[i][0] === "token") {
              if (tokens >= due) break;
              tokens++;
            }
            client.write(out[i][1]);
          }
          if (i < out.length) setTimeout(release, interval / 2);
        };
        release();
      }
    });
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on("error", close);
    upstream.on("error", close);
    client.on("close", close);
    upstream.on("close", close);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${server.address().port}`, close: () => server.close() };
}
