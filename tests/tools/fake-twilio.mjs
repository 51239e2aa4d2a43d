// fake-twilio.mjs - Twilio's media API and its CDN, for the media tests (node, no npm modules).
//
//   node fake-twilio.mjs --port PORT --log FILE [--sid AC... --token TOKEN]
//   node fake-twilio.mjs --print NAME        (the bytes /cdn/NAME serves, to stdout)
//
// Listens on 127.0.0.1:PORT. Every request is logged to FILE, one line:
//   METHOD PATH host=HOST auth=AUTHORIZATION-or--
// so a test can count upstream fetches and see what credentials each carried.
//
// /2010-04-01/Accounts/AC.../Messages/MM.../Media/SID: like Twilio, checks
// HTTP Basic auth (--sid/--token; 401 when wrong), then answers 307 to
// http://localhost:PORT/cdn/SID: "localhost", not 127.0.0.1, so that the
// redirect goes to another host name and the client must drop credentials.
// SID api404 / api500 answer 404 / 500 at the API itself.
//
// /cdn/NAME serves by NAME:
//   pic-N        a real JPEG of exactly N bytes with Content-Length, image/jpeg:
//                a 24x16 noise picture (libvips's `vips`, seeded by NAME) padded
//                with COM segments (so N >= 500)
//   fx-FILE      the file FILE of --dir DIR (a test's own fixtures), sent as
//                image/png whatever it is (bookpics must trust the bytes only)
//   png-WxH      a real W x H PNG (a colour gradient), image/png, for browsers
//   chunked-N    the JPEG of pic-N, chunked (no Content-Length)
//   truncated-N  claims N bytes, sends half, closes the connection
//   slow         answers nothing for 60 s (the client's timeout must fire)
//   trickle      Content-Length 60000, 10 bytes every 200 ms
//   missing      404; boom: 500
//   loop         307 to itself, forever
//   file         307 to file:///etc/passwd
//   back         307 to /cdn/pic-640 on 127.0.0.1 (the API's host again)
//   relative     307 to the relative Location /cdn/pic-1000
import http from 'node:http';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { execFileSync } from 'node:child_process';
import { pad } from './img.mjs';

const args = {};
for (let i = 2; i < process.argv.length; i += 2)
	args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];

// Deterministic bytes per name, every value 0..255 in turn.
function bytes(name, n) {
	let seed = 0;
	for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) & 0xff;
	const b = Buffer.alloc(n);
	for (let i = 0; i < n; i++) b[i] = (i * 7 + seed + (i >> 8)) & 0xff;
	return b;
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function crc32(buf) {
	let c = 0xffffffff;
	for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
	return (c ^ 0xffffffff) >>> 0;
}

// A W x H 8-bit RGB PNG: signature, IHDR, one IDAT, IEND.
function png(w, h) {
	const chunk = (type, data) => {
		const head = Buffer.alloc(8), tail = Buffer.alloc(4);
		head.writeUInt32BE(data.length, 0);
		head.write(type, 4, 'latin1');
		tail.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0);
		return Buffer.concat([head, data, tail]);
	};
	const ihdr = Buffer.alloc(13);
	ihdr.writeUInt32BE(w, 0);
	ihdr.writeUInt32BE(h, 4);
	ihdr[8] = 8;	// bit depth
	ihdr[9] = 2;	// RGB
	const raw = Buffer.alloc((w * 3 + 1) * h);
	for (let y = 0; y < h; y++) {
		const row = y * (w * 3 + 1);	// filter byte 0, then pixels
		for (let x = 0; x < w; x++) {
			raw[row + 1 + x * 3] = (x * 255 / Math.max(w - 1, 1)) | 0;
			raw[row + 2 + x * 3] = (y * 255 / Math.max(h - 1, 1)) | 0;
			raw[row + 3 + x * 3] = 160;
		}
	}
	return Buffer.concat([
		Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
		chunk('IHDR', ihdr), chunk('IDAT', zlib.deflateSync(raw)), chunk('IEND', Buffer.alloc(0)),
	]);
}

// A small real JPEG, different for every name (the noise is seeded by it).
function jpeg(name) {
	let seed = 0;
	for (const ch of name) seed = (seed * 31 + ch.charCodeAt(0)) % 1000003;
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-twilio-'));
	try {
		execFileSync('vips', ['gaussnoise', path.join(dir, 'n.v'), '24', '16', '--seed', String(seed)]);
		execFileSync('vips', ['jpegsave', path.join(dir, 'n.v'), path.join(dir, 'n.jpg'), '--Q', '60', '--strip']);
		return fs.readFileSync(path.join(dir, 'n.jpg'));
	} finally {
		fs.rmSync(dir, { recursive: true, force: true });
	}
}

const made = new Map();

// png-WxH names a PNG, pic-N (and chunked-N, truncated-N) a JPEG of N
// bytes, fx-FILE a file of --dir, anything else the pattern bytes.
function content(name) {
	const p = /^png-(\d{1,4})x(\d{1,4})$/.exec(name);
	if (p && +p[1] > 0 && +p[2] > 0) return png(+p[1], +p[2]);
	const j = /^(?:pic|chunked|truncated)-(\d+)$/.exec(name);
	if (j) {
		const key = 'pic-' + j[1];
		if (!made.has(key)) made.set(key, pad(jpeg(key), Number(j[1])));
		return made.get(key);
	}
	const fx = /^fx-([A-Za-z0-9._-]+)$/.exec(name);
	if (fx && args.dir && !fx[1].startsWith('.')) {
		try { return fs.readFileSync(path.join(args.dir, fx[1])); } catch { return Buffer.alloc(0); }
	}
	return bytes(name, sizeOf(name));
}

function sizeOf(name) {
	const m = /-(\d+)$/.exec(name);
	return m ? Number(m[1]) : 0;
}

if (args.print !== undefined) {
	process.stdout.write(content(args.print));
	process.exit(0);
}

const port = Number(args.port);
const log = args.log;
const timers = new Set();

function later(ms, fn) {
	const t = setTimeout(() => { timers.delete(t); fn(); }, ms);
	timers.add(t);
	return t;
}

function cdn(req, res, name) {
	const cdnBase = `http://localhost:${port}/cdn/`;
	if (name === 'missing') return res.writeHead(404).end('not found');
	if (name === 'boom') return res.writeHead(500).end('boom');
	if (name === 'loop') return res.writeHead(307, { Location: cdnBase + 'loop' }).end();
	if (name === 'file') return res.writeHead(307, { Location: 'file:///etc/passwd' }).end();
	if (name === 'back') return res.writeHead(307, { Location: `http://127.0.0.1:${port}/cdn/pic-640` }).end();
	if (name === 'relative') return res.writeHead(307, { Location: '/cdn/pic-1000' }).end();
	if (name === 'slow') {
		const t = later(60000, () => res.writeHead(200).end('late'));
		res.on('close', () => { clearTimeout(t); timers.delete(t); });
		return;
	}
	if (name === 'trickle') {
		res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': 60000 });
		const t = setInterval(() => res.write(Buffer.alloc(10, 0x41)), 200);
		timers.add(t);
		res.on('close', () => { clearInterval(t); timers.delete(t); });
		return;
	}
	const body = content(name);
	if (name.startsWith('pic-')) {
		return res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': body.length }).end(body);
	}
	if ((/^png-\d+x\d+$/.test(name) || name.startsWith('fx-')) && body.length) {
		return res.writeHead(200, { 'Content-Type': 'image/png', 'Content-Length': body.length }).end(body);
	}
	if (name.startsWith('chunked-')) {
		res.writeHead(200, { 'Content-Type': 'image/jpeg' });	// node chunks it
		for (let i = 0; i < body.length; i += 4096) res.write(body.subarray(i, i + 4096));
		return res.end();
	}
	if (name.startsWith('truncated-')) {
		res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': body.length });
		res.write(body.subarray(0, body.length >> 1));
		return later(100, () => res.destroy());
	}
	res.writeHead(404).end('no such test file');
}

const server = http.createServer((req, res) => {
	const auth = req.headers.authorization || '-';
	fs.appendFileSync(log, `${req.method} ${req.url} host=${req.headers.host} auth=${auth}\n`);
	res.on('error', () => {});
	const api = /^\/2010-04-01\/Accounts\/AC[^/]*\/Messages\/MM[^/]*\/Media\/([A-Za-z0-9_.-]+)$/.exec(req.url);
	if (api) {
		const want = 'Basic ' + Buffer.from(`${args.sid}:${args.token}`).toString('base64');
		if (args.sid !== undefined && auth !== want)
			return res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"code":20003}');
		if (api[1] === 'api404') return res.writeHead(404).end('{"code":20404}');
		if (api[1] === 'api500') return res.writeHead(500).end('oops');
		return res.writeHead(307, { Location: `http://localhost:${port}/cdn/${api[1]}` }).end();
	}
	const c = /^\/cdn\/([A-Za-z0-9_.-]+)$/.exec(req.url);
	if (c) return cdn(req, res, c[1]);
	res.writeHead(404).end('no such path');
});

function stop() {
	for (const t of timers) { clearTimeout(t); clearInterval(t); }
	server.closeAllConnections();
	server.close(() => process.exit(0));
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
server.listen(port, '127.0.0.1', () => {
	fs.appendFileSync(log, `listening ${port}\n`);
});
