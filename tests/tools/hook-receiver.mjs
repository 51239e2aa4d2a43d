// hook-receiver.mjs - a test receiver of bookpics event hooks.
//   node hook-receiver.mjs --port P --secret S --log FILE [--mode up|500|hang] [--control FILE]
// Every request is checked as docs/HOOKS.md says (signature over t + "." + body,
// t within 5 minutes); a valid one is appended to FILE as one line
// "ok TYPE ID ROOM T" (ROOM "-" for connection events), an invalid one as
// "bad REASON". Mode up answers 200, 500 answers 500 (recorded as "refused ID"),
// hang never answers. --control FILE: its content (up, 500, hang, down) is read
// on each request / every 100 ms, so a test switches modes while it runs; "down"
// closes the listening socket (connections refused) until the mode changes.
import http from "node:http";
import crypto from "node:crypto";
import fs from "node:fs";

const arg = (name, dflt) => {
	const i = process.argv.indexOf("--" + name);
	return i > 0 ? process.argv[i + 1] : dflt;
};
const port = Number(arg("port")), secret = arg("secret"), log = arg("log");
const control = arg("control");
let mode = arg("mode", "up");
const note = line => fs.appendFileSync(log, line + "\n");

// The documented check, as a receiver writes it.
function verify(header, body) {
	const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header || "");
	if (!m) return "no_signature";
	const mac = crypto.createHmac("sha256", secret).update(m[1] + "." + body).digest("hex");
	if (!crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(m[2]))) return "bad_signature";
	if (Math.abs(Date.now() / 1000 - Number(m[1])) > 300) return "too_old";
	return null;
}

const server = http.createServer((req, res) => {
	let body = "";
	req.setEncoding("utf8");
	req.on("data", d => body += d);
	req.on("end", () => {
		if (mode === "hang") return;	// never answered
		const bad = verify(req.headers["x-bookpics-signature"], body);
		if (bad) {
			note("bad " + bad);
			res.writeHead(400).end();
			return;
		}
		const e = JSON.parse(body);
		if (mode === "500") {
			note("refused " + e.id);
			res.writeHead(500).end();
			return;
		}
		const t = /^t=(\d+)/.exec(req.headers["x-bookpics-signature"])[1];
		note(`ok ${e.type} ${e.id} ${e.room || "-"} ${t}`);
		res.writeHead(200, { "Content-Type": "text/plain" }).end("ok");
	});
});

let listening = false;
function apply() {
	if (control && fs.existsSync(control))
		mode = fs.readFileSync(control, "utf8").trim() || mode;
	if (mode === "down" && listening) {
		server.close();
		server.closeAllConnections?.();
		listening = false;
		note("down");
	} else if (mode !== "down" && !listening) {
		listening = true;
		server.listen(port, "127.0.0.1", () => note("listening " + mode));
	}
}
apply();
setInterval(apply, 100);
