#!/usr/bin/env python3
"""A small stand-in for the Hugging Face Hub, for rmm's tests.

Usage: fake_hub.py ROOT   (prints its port on stdout, then serves on 127.0.0.1)

Repos are folders ROOT/OWNER/NAME/ holding their files; an optional
ROOT/OWNER/NAME/.hub.json sets {"downloads", "likes", "lastModified",
"gated_token" (the only token that may download), "extra_entries" (raw
listing entries, e.g. hostile paths), "git_files" (paths stored in git,
not LFS)}.

Routes, with the Hub's documented shapes and headers:
  GET  /api/models?search=&filter=gguf&sort=downloads&direction=-1&limit=&expand[]=
  GET  /api/models/OWNER/NAME/tree/REV?recursive=true   (pages of `page_size`, Link: rel="next")
  HEAD|GET /OWNER/NAME/resolve/REV/PATH  LFS files: 302 to the CDN host with X-Linked-Etag
       (quoted sha256), X-Linked-Size, X-Repo-Commit, ETag; git files: 200 with ETag (blob sha1)
  HEAD|GET /cdn/repos/SHA256?X-Amz-...   the bytes, Range (206 / 416), its own ETag; an
       Authorization header is refused with 400 as S3 refuses a second auth mechanism
Errors carry X-Error-Code / X-Error-Message: RepoNotFound (401 without a token, 404
with one), GatedRepo (401 without a token, 403 with the wrong one), RevisionNotFound,
EntryNotFound (404); a wrong token on a non-gated repo is ignored.

Test controls (not Hub routes):
  GET /_fake/config?cut_after=N,M&ignore_range=1&corrupt=1&rate=BYTES_PER_S&fail_5xx=K
      &page_size=P&cdn_host=HOST   set the faults for the CDN's next responses
      (cut_after: the next responses stop after that many body bytes, one value each)
  GET /_fake/log     the requests seen, as JSON;  GET /_fake/reset   clears faults and log
"""
import hashlib
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROOT = os.path.abspath(sys.argv[1])
COMMIT = "0123456789abcdef0123456789abcdef01234567"
LOCK = threading.Lock()
STATE = {}
LOG = []
HASHES = {}  # (path, mtime, size) -> (sha256, sha1 of the git blob)


def reset():
    STATE.clear()
    STATE.update(cut_after=[], ignore_range=False, corrupt=False, rate=0, fail_5xx=0, page_size=1000,
                 cdn_host="localhost")
    LOG.clear()


reset()


def repo_dir(repo):
    return os.path.join(ROOT, *repo.split("/"))


def repo_meta(repo):
    p = os.path.join(repo_dir(repo), ".hub.json")
    if os.path.exists(p):
        with open(p) as f:
            return json.load(f)
    return {}


def all_repos():
    out = []
    for owner in sorted(os.listdir(ROOT)):
        od = os.path.join(ROOT, owner)
        if not os.path.isdir(od):
            continue
        for name in sorted(os.listdir(od)):
            if os.path.isdir(os.path.join(od, name)):
                out.append(owner + "/" + name)
    return out


def repo_files(repo):
    base = repo_dir(repo)
    out = []
    for dirpath, _, files in os.walk(base):
        for f in files:
            full = os.path.join(dirpath, f)
            rel = os.path.relpath(full, base).replace(os.sep, "/")
            if rel != ".hub.json":
                out.append(rel)
    return sorted(out)


def hashes(full):
    st = os.stat(full)
    key = (full, st.st_mtime_ns, st.st_size)
    with LOCK:
        if key in HASHES:
            return HASHES[key]
    with open(full, "rb") as f:
        data = f.read()
    sha = hashlib.sha256(data).hexdigest()
    blob = hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()
    with LOCK:
        HASHES[key] = (sha, blob)
    return sha, blob


def is_lfs(repo, rel):
    return rel not in repo_meta(repo).get("git_files", [".gitattributes", "README.md"])


def find_by_sha(sha):
    for repo in all_repos():
        for rel in repo_files(repo):
            full = os.path.join(repo_dir(repo), rel)
            if hashes(full)[0] == sha:
                return full
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    # --- helpers -------------------------------------------------------
    def token(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:] if auth.startswith("Bearer ") else None

    def send(self, status, body=b"", headers=None, ctype="application/json"):
        if isinstance(body, (dict, list)):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def hub_error(self, status, code, message):
        self.send(status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message})

    def repo_missing(self):
        # The Hub answers 401 to anonymous callers so as not to reveal private repos.
        self.hub_error(404 if self.token() else 401, "RepoNotFound", "Repository not found")

    # --- routing -------------------------------------------------------
    def do_HEAD(self):
        self.route()

    def do_GET(self):
        self.route()

    def route(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        path = urllib.parse.unquote(url.path)
        with LOCK:
            LOG.append({"method": self.command, "path": url.path, "host": self.headers.get("Host", ""),
                        "authorization": self.headers.get("Authorization") is not None,
                        "range": self.headers.get("Range")})
        parts = [p for p in url.path.split("/") if p != ""]
        if parts[:1] == ["_fake"]:
            return self.control(parts[1] if len(parts) > 1 else "", query)
        if parts[:2] == ["api", "models"] and len(parts) == 2:
            return self.search(query)
        if parts[:2] == ["api", "models"] and len(parts) >= 5 and parts[4] == "tree":
            repo = urllib.parse.unquote(parts[2]) + "/" + urllib.parse.unquote(parts[3])
            rev = urllib.parse.unquote(parts[5]) if len(parts) > 5 else "main"
            return self.tree(repo, rev, query)
        if parts[:2] == ["cdn", "repos"] and len(parts) == 3:
            return self.cdn(parts[2])
        if len(parts) >= 5 and parts[2] == "resolve":
            repo = parts[0] + "/" + parts[1]
            rel = "/".join(urllib.parse.unquote(p) for p in parts[4:])
            return self.resolve(repo, urllib.parse.unquote(parts[3]), rel)
        self.send(404, {"error": "Not Found: " + path})

    def control(self, what, query):
        with LOCK:
            if what == "reset":
                reset()
            elif what == "config":
                if "cut_after" in query:
                    STATE["cut_after"] = [int(x) for x in query["cut_after"][0].split(",") if x]
                for k in ("ignore_range", "corrupt"):
                    if k in query:
                        STATE[k] = query[k][0] == "1"
                for k in ("rate", "fail_5xx", "page_size"):
                    if k in query:
                        STATE[k] = int(query[k][0])
                if "cdn_host" in query:
                    STATE["cdn_host"] = query["cdn_host"][0]
            body = {"state": STATE, "log": LOG} if what == "log" else {"state": STATE}
            body = json.loads(json.dumps(body))
        self.send(200, body)

    def search(self, query):
        needle = query.get("search", [""])[0].lower()
        expand = query.get("expand[]", [])
        hits = []
        for repo in all_repos():
            if needle not in repo.lower():
                continue
            if query.get("filter", [""])[0] == "gguf" and not any(f.endswith(".gguf") for f in repo_files(repo)):
                continue
            meta = repo_meta(repo)
            hit = {"_id": hashlib.md5(repo.encode()).hexdigest()[:24], "id": repo}
            fields = {"downloads": meta.get("downloads", 0), "likes": meta.get("likes", 0),
                      "lastModified": meta.get("lastModified", "2024-01-01T00:00:00.000Z")}
            for k, v in fields.items():
                if not expand or k in expand:
                    hit[k] = v
            hits.append(hit)
        if query.get("sort", [""])[0] == "downloads":
            hits.sort(key=lambda h: repo_meta(h["id"]).get("downloads", 0),
                      reverse=query.get("direction", ["-1"])[0] == "-1")
        limit = int(query.get("limit", ["1000"])[0])
        self.send(200, hits[:limit])

    def tree(self, repo, rev, query):
        if not os.path.isdir(repo_dir(repo)):
            return self.repo_missing()
        if rev != "main":
            return self.hub_error(404, "RevisionNotFound", "Invalid rev id: " + rev)
        entries, dirs = [], set()
        for rel in repo_files(repo):
            full = os.path.join(repo_dir(repo), rel)
            sha, blob = hashes(full)
            size = os.path.getsize(full)
            d = os.path.dirname(rel)
            while d and d not in dirs:
                dirs.add(d)
                entries.append({"type": "directory", "oid": hashlib.sha1(d.encode()).hexdigest(), "size": 0, "path": d})
                d = os.path.dirname(d)
            e = {"type": "file", "oid": blob, "size": size, "path": rel}
            if is_lfs(repo, rel):
                pointer = "version https://git-lfs.github.com/spec/v1\noid sha256:%s\nsize %d\n" % (sha, size)
                e["oid"] = hashlib.sha1(b"blob %d\0" % len(pointer) + pointer.encode()).hexdigest()
                e["lfs"] = {"oid": sha, "size": size, "pointerSize": len(pointer)}
            entries.append(e)
        entries += repo_meta(repo).get("extra_entries", [])
        start = int(query.get("cursor", ["0"])[0])
        page = STATE["page_size"]
        headers = {}
        if start + page < len(entries):
            host = self.headers.get("Host")
            nxt = "http://%s/api/models/%s/tree/main?recursive=true&cursor=%d" % (host, repo, start + page)
            headers["Link"] = '<%s>; rel="next"' % nxt
        self.send(200, entries[start:start + page], headers)

    def resolve(self, repo, rev, rel):
        if not os.path.isdir(repo_dir(repo)):
            return self.repo_missing()
        meta = repo_meta(repo)
        gated = meta.get("gated_token")
        if gated and self.token() != gated:
            if self.token() is None:
                return self.hub_error(401, "GatedRepo", "Access to model %s is restricted. You must have access to "
                                      "it and be authenticated to access it. Please log in." % repo)
            return self.hub_error(403, "GatedRepo", "Access to model %s is restricted and you are not in the "
                                  "authorized list. Visit https://huggingface.co/%s to ask for access." % (repo, repo))
        if rev != "main":
            return self.hub_error(404, "RevisionNotFound", "Invalid rev id: " + rev)
        full = os.path.join(repo_dir(repo), *rel.split("/"))
        if rel not in repo_files(repo):
            return self.hub_error(404, "EntryNotFound", "Entry not found")
        sha, blob = hashes(full)
        size = os.path.getsize(full)
        if not is_lfs(repo, rel):
            return self.serve_bytes(full, '"%s"' % blob, {"X-Repo-Commit": COMMIT})
        port = self.server.server_address[1]
        location = ("http://%s:%d/cdn/repos/%s?X-Amz-Expires=3600&X-Amz-Signature=fake"
                    "&response-content-disposition=attachment%%3B+filename%%3D%s"
                    % (STATE["cdn_host"], port, sha, urllib.parse.quote(os.path.basename(rel))))
        self.send(302, "Found. Redirecting to " + location, {
            "Location": location, "X-Linked-Etag": '"%s"' % sha, "X-Linked-Size": str(size),
            "ETag": '"%s"' % sha, "X-Repo-Commit": COMMIT, "Accept-Ranges": "bytes"}, ctype="text/plain")

    def cdn(self, sha):
        if self.headers.get("Authorization") is not None:
            return self.send(400, "<Error><Code>InvalidArgument</Code><Message>Only one auth mechanism allowed"
                             "</Message></Error>", ctype="application/xml")
        full = find_by_sha(sha)
        if full is None:
            return self.send(404, "<Error><Code>NoSuchKey</Code></Error>", ctype="application/xml")
        with LOCK:
            if STATE["fail_5xx"] > 0 and self.command == "GET":
                STATE["fail_5xx"] -= 1
                fail = True
            else:
                fail = False
        if fail:
            return self.send(503, "Service Unavailable", ctype="text/plain")
        self.serve_bytes(full, '"%s"' % hashlib.md5(sha.encode()).hexdigest(), {})

    def serve_bytes(self, full, etag, extra):
        with open(full, "rb") as f:
            data = f.read()
        size = len(data)
        start, status = 0, 200
        rng = self.headers.get("Range")
        with LOCK:
            ignore = STATE["ignore_range"]
            corrupt = STATE["corrupt"]
            rate = STATE["rate"]
            cut = STATE["cut_after"].pop(0) if (STATE["cut_after"] and self.command == "GET") else None
        headers = {"ETag": etag, "Accept-Ranges": "bytes"}
        headers.update(extra)
        if rng and not ignore:
            try:
                unit, spec = rng.split("=", 1)
                first, last = spec.split("-", 1)
                start = int(first)
                end = int(last) if last else size - 1
            except ValueError:
                return self.send(400, "bad range", ctype="text/plain")
            if start >= size:
                headers["Content-Range"] = "bytes */%d" % size
                return self.send(416, "", headers, ctype="text/plain")
            end = min(end, size - 1)
            headers["Content-Range"] = "bytes %d-%d/%d" % (start, end, size)
            data = data[start:end + 1]
            status = 206
        if corrupt and data:
            mid = len(data) // 2
            data = data[:mid] + bytes([data[mid] ^ 0xFF]) + data[mid + 1:]
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers.items():
            self.send_header(k, v)
        self.end_headers()
        if self.command == "HEAD":
            return
        to_send = data if cut is None else data[:cut]
        chunk = 16384
        t0 = time.time()
        try:
            for i in range(0, len(to_send), chunk):
                self.wfile.write(to_send[i:i + chunk])
                if rate:
                    ahead = (i + chunk) / rate - (time.time() - t0)
                    if ahead > 0:
                        time.sleep(ahead)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True
            return
        if cut is not None:
            self.close_connection = True  # the body is short: the client sees a cut transfer


def exit_with_parent():
    # A test that crashes must not leave its hub running.
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(0.5)
    os._exit(0)


def main():
    threading.Thread(target=exit_with_parent, daemon=True).start()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
