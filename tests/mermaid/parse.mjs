// Parses Mermaid diagrams with the real mermaid package, headless: node has no DOM, so a jsdom window stands in
// for the browser's (mermaid sanitises labels with DOMPurify, which needs one).
//
// One diagram per line on stdin, each a JSON string; one JSON object per line on stdout, in the same order:
// {"ok": true, "type": "gantt"} or {"ok": false, "error": "the parser's message"}. The process stays up for
// as many diagrams as it is given (starting node and loading mermaid takes about a second), and ends with stdin.
import { createInterface } from "node:readline";
import { JSDOM } from "jsdom";

const { window } = new JSDOM("<!doctype html><html><body></body></html>", { pretendToBeVisual: true });
globalThis.window = window;
globalThis.document = window.document;

const { default: mermaid } = await import("mermaid");
mermaid.initialize({ startOnLoad: false, securityLevel: "strict" });

async function check(text) {
  try {
    const parsed = await mermaid.parse(text);
    if (parsed.diagramType === "gantt") {
      // the gantt grammar takes any task data; the dates are only worked out when it is drawn
      const diagram = await mermaid.mermaidAPI.getDiagramFromText(text);
      for (const task of diagram.db.getTasks()) {
        for (const [name, value] of [["start", task.startTime], ["end", task.endTime]]) {
          if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
            return { ok: false, error: `gantt task ${JSON.stringify(task.task)}: its ${name} is not a date` };
          }
        }
      }
    }
    return { ok: true, type: parsed.diagramType };
  } catch (error) {
    return { ok: false, error: String((error && (error.message || error.str)) || error) };
  }
}

const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of lines) {
  if (!line.trim()) continue;
  let result;
  try {
    result = await check(JSON.parse(line));
  } catch (error) {
    result = { ok: false, error: `not a JSON string: ${error.message}` };
  }
  process.stdout.write(JSON.stringify(result) + "\n");
}
