/**
 * Headless Chromium driven over the Chrome DevTools Protocol, without a browser-automation dependency:
 * `--remote-debugging-pipe` makes Chromium read NUL-terminated JSON commands from file descriptor 3 and
 * write responses and events to descriptor 4 (the transport Puppeteer's `pipe: true` uses). Enough to open
 * a page, wait for its load event, evaluate an expression in it and collect its console errors and
 * uncaught exceptions. Used by the e2e report test; `CHROMIUM` is undefined where no browser is installed.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** Debian's `chromium` (or Ubuntu's `chromium-browser`), if installed. */
export const CHROMIUM = ["/usr/bin/chromium", "/usr/bin/chromium-browser"].find((p) => existsSync(p));

/** A console message or uncaught exception of the page. */
export interface PageProblem {
  readonly kind: "console" | "exception" | "log";
  readonly level: string;
  readonly text: string;
}

type Message = {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: { message: string };
  sessionId?: string;
};

/** One browser process with one page, driven over the DevTools pipe. */
export class HeadlessChromium {
  /** Console errors and warnings, uncaught exceptions and browser log errors of the page, in order. */
  readonly problems: PageProblem[] = [];
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (m: Message) => void; reject: (e: Error) => void }>();
  private readonly listeners: Array<(m: Message) => void> = [];
  private sessionId = "";
  private buffer = "";

  private constructor(
    private readonly child: ChildProcess,
    private readonly dir: string,
  ) {
    const output = child.stdio[4] as Readable;
    output.on("data", (chunk: Buffer) => this.receive(chunk.toString("utf8")));
    child.once("exit", () => {
      for (const p of this.pending.values()) p.reject(new Error("chromium exited"));
      this.pending.clear();
    });
  }

  /** Starts Chromium (headless, no sandbox, throwaway profile) and attaches to its first page. */
  static async launch(executable: string): Promise<HeadlessChromium> {
    const dir = await mkdtemp(join(tmpdir(), "chromium-cdp-"));
    const child = spawn(
      executable,
      [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--remote-debugging-pipe",
        `--user-data-dir=${join(dir, "profile")}`,
        "about:blank",
      ],
      { stdio: ["ignore", "ignore", "ignore", "pipe", "pipe"] },
    );
    const browser = new HeadlessChromium(child, dir);
    try {
      const { targetInfos } = (await browser.send("Target.getTargets")) as {
        targetInfos: { targetId: string; type: string }[];
      };
      const page = targetInfos.find((t) => t.type === "page");
      if (!page) throw new Error("chromium opened no page");
      const attached = (await browser.send("Target.attachToTarget", {
        targetId: page.targetId,
        flatten: true,
      })) as { sessionId: string };
      browser.sessionId = attached.sessionId;
      browser.listeners.push((m) => browser.collect(m));
      for (const domain of ["Page", "Runtime", "Log"]) await browser.send(`${domain}.enable`, {}, true);
      return browser;
    } catch (error) {
      await browser.close();
      throw error;
    }
  }

  /** Navigates the page to `url` and waits for its load event (inline scripts have run by then). */
  async open(url: string, timeoutMs = 30_000): Promise<void> {
    const loaded = this.event("Page.loadEventFired", timeoutMs);
    await this.send("Page.navigate", { url }, true);
    await loaded;
  }

  /** Evaluates `expression` in the page and returns its value (JSON-serializable results only). */
  async evaluate<T>(expression: string): Promise<T> {
    const out = (await this.send(
      "Runtime.evaluate",
      { expression, returnByValue: true, awaitPromise: true },
      true,
    )) as { result: { value: T }; exceptionDetails?: { text: string; exception?: { description?: string } } };
    if (out.exceptionDetails)
      throw new Error(
        `page evaluation failed: ${out.exceptionDetails.exception?.description ?? out.exceptionDetails.text}`,
      );
    return out.result.value;
  }

  /** Stops the browser (by its own process) and removes its profile. */
  async close(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once("exit", resolve));
      this.child.kill();
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }

  private send(method: string, params: Record<string, unknown> = {}, onPage = false): Promise<unknown> {
    const id = this.nextId++;
    const message: Message = { id, method, params, ...(onPage ? { sessionId: this.sessionId } : {}) };
    const reply = new Promise<Message>((resolve, reject) => this.pending.set(id, { resolve, reject }));
    (this.child.stdio[3] as Writable).write(`${JSON.stringify(message)}\0`);
    return reply.then((m) => {
      if (m.error) throw new Error(`${method}: ${m.error.message}`);
      return m.result;
    });
  }

  private event(method: string, timeoutMs: number): Promise<Message> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${method}`)), timeoutMs);
      const listener = (m: Message) => {
        if (m.method !== method) return;
        clearTimeout(timer);
        this.listeners.splice(this.listeners.indexOf(listener), 1);
        resolve(m);
      };
      this.listeners.push(listener);
    });
  }

  private receive(text: string): void {
    this.buffer += text;
    for (let end = this.buffer.indexOf("\0"); end >= 0; end = this.buffer.indexOf("\0")) {
      const message = JSON.parse(this.buffer.slice(0, end)) as Message;
      this.buffer = this.buffer.slice(end + 1);
      if (message.id !== undefined) {
        this.pending.get(message.id)?.resolve(message);
        this.pending.delete(message.id);
      } else for (const listener of [...this.listeners]) listener(message);
    }
  }

  /** Console errors/warnings, uncaught exceptions and browser log errors of the page. */
  private collect(m: Message): void {
    const p = m.params ?? {};
    if (m.method === "Runtime.consoleAPICalled" && ["error", "warning", "assert"].includes(String(p.type))) {
      const args = (p.args as { value?: unknown; description?: string }[] | undefined) ?? [];
      this.problems.push({
        kind: "console",
        level: String(p.type),
        text: args.map((a) => a.description ?? String(a.value)).join(" "),
      });
    } else if (m.method === "Runtime.exceptionThrown") {
      const details = p.exceptionDetails as { text: string; exception?: { description?: string } };
      this.problems.push({
        kind: "exception",
        level: "error",
        text: details.exception?.description ?? details.text,
      });
    } else if (m.method === "Log.entryAdded") {
      const entry = p.entry as { level: string; text: string; url?: string };
      if (entry.level === "error" || entry.level === "warning")
        this.problems.push({
          kind: "log",
          level: entry.level,
          text: `${entry.text} ${entry.url ?? ""}`.trim(),
        });
    }
  }
}
