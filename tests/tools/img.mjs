// img.mjs - look inside and doctor test pictures (node, no npm modules).
//
//   node img.mjs info FILE          one line: TYPE WxH then the JPEG markers
//                                   up to SOS or the PNG chunk types, in order
//   node img.mjs exif IN.jpg OUT    IN with EXIF (Make, Model, Orientation 6,
//                                   GPS position), XMP, IPTC (APP13) and a
//                                   comment inserted after SOI
//   node img.mjs pngtext IN.png OUT IN with tEXt, iTXt, zTXt and eXIf chunks after IHDR
//   node img.mjs pad IN.jpg N OUT   IN grown to exactly N bytes with COM segments
//
// The fixtures of the picture tests are made by libvips (`vips`) and
// then given their metadata here, byte by byte: nothing is downloaded.
import fs from 'node:fs';
import zlib from 'node:zlib';

const jpegNames = {
	0xc0: 'SOF0', 0xc1: 'SOF1', 0xc2: 'SOF2', 0xc4: 'DHT', 0xd8: 'SOI', 0xd9: 'EOI',
	0xda: 'SOS', 0xdb: 'DQT', 0xdd: 'DRI', 0xfe: 'COM',
};

function jpegInfo(b) {
	const marks = ['SOI'];
	let w = 0, h = 0;
	for (let i = 2; i + 4 <= b.length;) {
		if (b[i] !== 0xff) return `jpeg ${w}x${h} ${marks.join(' ')} BROKEN`;
		const m = b[i + 1], len = b.readUInt16BE(i + 2);
		marks.push(jpegNames[m] || (m >= 0xe0 && m <= 0xef ? `APP${m - 0xe0}` : `M${m.toString(16)}`));
		if (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
			h = b.readUInt16BE(i + 5);
			w = b.readUInt16BE(i + 7);
		}
		if (m === 0xda) break;
		i += 2 + len;
	}
	return `jpeg ${w}x${h} ${marks.join(' ')}`;
}

function pngInfo(b) {
	const chunks = [];
	for (let i = 8; i + 8 <= b.length;) {
		const len = b.readUInt32BE(i);
		chunks.push(b.toString('latin1', i + 4, i + 8));
		i += 12 + len;
	}
	return `png ${b.readUInt32BE(16)}x${b.readUInt32BE(20)} ${chunks.join(' ')}`;
}

function webpInfo(b) {
	const kind = b.toString('latin1', 12, 16);
	let w = 0, h = 0;
	if (kind === 'VP8 ') {
		w = b.readUInt16LE(26) & 0x3fff;
		h = b.readUInt16LE(28) & 0x3fff;
	} else if (kind === 'VP8L') {
		const v = b.readUInt32LE(21);
		w = (v & 0x3fff) + 1;
		h = ((v >> 14) & 0x3fff) + 1;
	} else if (kind === 'VP8X') {
		w = b.readUIntLE(24, 3) + 1;
		h = b.readUIntLE(27, 3) + 1;
	}
	const chunks = [];
	for (let i = 12; i + 8 <= b.length;) {
		const len = b.readUInt32LE(i + 4);
		chunks.push(b.toString('latin1', i, i + 4).trim());
		i += 8 + len + (len & 1);
	}
	return `webp ${w}x${h} ${chunks.join(' ')}`;
}

function info(b) {
	if (b[0] === 0xff && b[1] === 0xd8) return jpegInfo(b);
	if (b.toString('latin1', 1, 4) === 'PNG') return pngInfo(b);
	if (b.toString('latin1', 0, 4) === 'RIFF' && b.toString('latin1', 8, 12) === 'WEBP') return webpInfo(b);
	if (b.toString('latin1', 0, 3) === 'GIF') return `gif ${b.readUInt16LE(6)}x${b.readUInt16LE(8)}`;
	return 'unknown';
}

function segment(marker, data) {
	const head = Buffer.from([0xff, marker, 0, 0]);
	head.writeUInt16BE(data.length + 2, 2);
	return Buffer.concat([head, data]);
}

// A little-endian TIFF: IFD0 with Make, Model, Orientation 6 and a GPS IFD
// pointer; the GPS IFD with latitude 48 51' 24" N, longitude 2 21' 3" E.
function exifBlock() {
	const t = Buffer.alloc(400);
	let extra = 200;	// values that do not fit in an entry go here
	const ascii = (s) => { const at = extra; t.write(s + '\0', at, 'latin1'); extra += s.length + 1; return at; };
	const rationals = (vals) => {
		const at = extra;
		for (const [n, d] of vals) { t.writeUInt32LE(n, extra); t.writeUInt32LE(d, extra + 4); extra += 8; }
		return at;
	};
	const entry = (at, tag, type, count, value) => {
		t.writeUInt16LE(tag, at); t.writeUInt16LE(type, at + 2);
		t.writeUInt32LE(count, at + 4); t.writeUInt32LE(value, at + 8);
	};
	t.write('II', 0, 'latin1'); t.writeUInt16LE(42, 2); t.writeUInt32LE(8, 4);
	t.writeUInt16LE(4, 8);	// IFD0: 4 entries, sorted by tag
	entry(10, 0x010f, 2, 'PhoneMaker'.length + 1, ascii('PhoneMaker'));
	entry(22, 0x0110, 2, 'SpyCam 3000'.length + 1, ascii('SpyCam 3000'));
	entry(34, 0x0112, 3, 1, 6);	// Orientation: rotate 90 CW to view
	entry(46, 0x8825, 4, 1, 100);	// GPS IFD
	t.writeUInt32LE(0, 58);
	t.writeUInt16LE(4, 100);	// GPS IFD: 4 entries
	entry(102, 0x0001, 2, 2, 'N'.charCodeAt(0));
	entry(114, 0x0002, 5, 3, rationals([[48, 1], [51, 1], [24, 1]]));
	entry(126, 0x0003, 2, 2, 'E'.charCodeAt(0));
	entry(138, 0x0004, 5, 3, rationals([[2, 1], [21, 1], [3, 1]]));
	t.writeUInt32LE(0, 150);
	return Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), t.subarray(0, extra)]);
}

function exif(b) {
	const xmp = Buffer.from('http://ns.adobe.com/xap/1.0/\0<x:xmpmeta xmlns:x="adobe:ns:meta/">' +
		'<rdf:RDF><rdf:Description exif:GPSLatitude="48,51.4N"/></rdf:RDF></x:xmpmeta>', 'latin1');
	// Photoshop 3.0 8BIM resource 0x0404 holding IPTC 2:80 (by-line)
	const iptc = Buffer.concat([Buffer.from([0x1c, 2, 80, 0, 9]), Buffer.from('Jane Roe!', 'latin1')]);
	const res = Buffer.alloc(12);
	res.write('8BIM', 0, 'latin1'); res.writeUInt16BE(0x0404, 4); res.writeUInt32BE(iptc.length, 8);
	const app13 = Buffer.concat([Buffer.from('Photoshop 3.0\0', 'latin1'), res, iptc,
		Buffer.alloc(iptc.length & 1)]);
	return Buffer.concat([b.subarray(0, 2), segment(0xe1, exifBlock()), segment(0xe1, xmp),
		segment(0xed, app13), segment(0xfe, Buffer.from('taken at 12 Main St', 'latin1')),
		b.subarray(2)]);
}

const crcTable = Array.from({ length: 256 }, (_, n) => {
	let c = n;
	for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
	return c >>> 0;
});

function chunk(type, data) {
	const head = Buffer.alloc(8), tail = Buffer.alloc(4);
	head.writeUInt32BE(data.length, 0);
	head.write(type, 4, 'latin1');
	let c = 0xffffffff;
	for (const x of Buffer.concat([head.subarray(4), data])) c = crcTable[(c ^ x) & 0xff] ^ (c >>> 8);
	tail.writeUInt32BE((c ^ 0xffffffff) >>> 0, 0);
	return Buffer.concat([head, data, tail]);
}

function pngtext(b) {
	const ihdrEnd = 8 + 12 + b.readUInt32BE(8);
	const text = chunk('tEXt', Buffer.from('Comment\0GPS 48.8567N 2.3508E', 'latin1'));
	const itxt = chunk('iTXt', Buffer.from('Author\0\0\0en\0Author\0Jane Roe', 'utf8'));
	const ztxt = chunk('zTXt', Buffer.concat([Buffer.from('Location\0\0', 'latin1'),
		zlib.deflateSync(Buffer.from('12 Main St'))]));
	const exifc = chunk('eXIf', exifBlock().subarray(6));
	return Buffer.concat([b.subarray(0, ihdrEnd), text, itxt, ztxt, exifc, b.subarray(ihdrEnd)]);
}

export function pad(b, n) {
	const parts = [b.subarray(0, 2)];
	let left = n - b.length;
	while (left >= 4) {
		let seg = Math.min(left, 65537);
		if (left - seg > 0 && left - seg < 4) seg -= 4;
		parts.push(segment(0xfe, Buffer.alloc(seg - 4, 0x20)));
		left -= seg;
	}
	parts.push(b.subarray(2));
	return Buffer.concat(parts);
}

if (process.argv[1] && process.argv[1].endsWith('img.mjs')) {
	const [cmd, a, b, c] = process.argv.slice(2);
	if (cmd === 'info') console.log(info(fs.readFileSync(a)));
	else if (cmd === 'exif') fs.writeFileSync(b, exif(fs.readFileSync(a)));
	else if (cmd === 'pngtext') fs.writeFileSync(b, pngtext(fs.readFileSync(a)));
	else if (cmd === 'pad') fs.writeFileSync(c, pad(fs.readFileSync(a), Number(b)));
	else { console.error('usage: img.mjs info|exif|pngtext|pad ...'); process.exit(2); }
}
