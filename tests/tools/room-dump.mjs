// room-dump.mjs BASE ROOM [TOKEN] - every message of a room, oldest first,
// as "index userId chatMessage" lines, paging with after= (500 a page).
const [base, room, token] = process.argv.slice(2);
const headers = token ? { Authorization: `Bearer ${token}` } : {};
let after = 0;
for (;;) {
	const res = await fetch(`${base}/api/rooms/${room}/messages?after=${after}&limit=500`, { headers });
	if (res.status !== 200) {
		console.error(`room-dump: HTTP ${res.status}: ${await res.text()}`);
		process.exit(1);
	}
	const page = await res.json();
	for (const m of page.messages)
		console.log(m.index, m.userId, m.chatMessage);
	if (page.messages.length === 0)
		break;
	after = page.messages[page.messages.length - 1].index;
}
