// Read feeds with two JavaScript feed readers that Node apps use: rss-parser (RSS, Atom) and
// feedsmith (RSS, Atom, JSON Feed, OPML). Print, per file, the item ids and titles each read as
// JSON; exit 1 on the first file either cannot read.
import { readFileSync } from "node:fs";
import { parseFeed, parseOpml } from "feedsmith";
import Parser from "rss-parser";

const rssParser = new Parser();
const report = {};
for (const path of process.argv.slice(2)) {
  const text = readFileSync(path, "utf-8");
  try {
    if (path.endsWith(".opml")) {
      const opml = parseOpml(text);
      report[path] = { outlines: (opml.body?.outlines ?? []).length };
      continue;
    }
    const { format, feed } = parseFeed(text);
    const items = (format === "atom" ? feed.entries : feed.items) ?? [];
    const entry = {
      feedsmith: { format, ids: items.map((i) => String(i.id ?? i.guid?.value ?? i.guid ?? i.link ?? "")),
                   titles: items.map((i) => String(i.title?.value ?? i.title ?? "")) },
    };
    if (!path.endsWith(".json")) {
      const parsed = await rssParser.parseString(text);
      entry.rssParser = { titles: parsed.items.map((i) => i.title ?? ""),
                          links: parsed.items.map((i) => i.link ?? "") };
    }
    report[path] = entry;
  } catch (error) {
    console.error(`${path}: ${error.message}`);
    process.exit(1);
  }
}
console.log(JSON.stringify(report));
