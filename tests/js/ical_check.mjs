// Read iCalendar files with Mozilla's ical.js (the parser of Thunderbird's calendar) and print,
// per file, what it understood as JSON; exit 1 on the first file it cannot read.
import { readFileSync } from "node:fs";
import ICAL from "ical.js";

const report = {};
for (const path of process.argv.slice(2)) {
  try {
    const root = new ICAL.Component(ICAL.parse(readFileSync(path, "utf-8")));
    if (root.name !== "vcalendar") throw new Error(`root is ${root.name}, not vcalendar`);
    const events = root.getAllSubcomponents("vevent").map((vevent) => {
      const event = new ICAL.Event(vevent);
      if (!event.uid) throw new Error("VEVENT without UID");
      if (!event.startDate) throw new Error(`${event.uid}: no DTSTART`);
      const end = event.endDate;
      if (end && end.compare(event.startDate) < 0) throw new Error(`${event.uid}: ends before it starts`);
      return {
        uid: event.uid,
        summary: event.summary,
        start: event.startDate.toJSDate().toISOString(),
        all_day: event.startDate.isDate,
      };
    });
    report[path] = { version: root.getFirstPropertyValue("version"), events };
  } catch (error) {
    console.error(`${path}: ${error.message}`);
    process.exit(1);
  }
}
console.log(JSON.stringify(report));
