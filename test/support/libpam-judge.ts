/**
 * The real libpam as the judge of config/pam.ts: load a service from a temp
 * directory with `pam_start_confdir` (libpam >= 1.4) and run each stack.
 * Every module line of the test trees uses the stock pam_echo.so, which
 * prints its arguments through our conversation function and returns
 * PAM_SUCCESS (chauthtok: in the PRELIM pass only), so the messages are the
 * argument lists of the modules libpam runs, in order. Nothing outside the
 * temp directory is read; pam_echo reads no file unless given `file=`,
 * which the trees never use.
 */
import { dlopen, FFIType, JSCallback, CString, ptr, read } from "bun:ffi";
import { existsSync } from "node:fs";

const LIBPAM = ["/lib/x86_64-linux-gnu/libpam.so.0", "/usr/lib/x86_64-linux-gnu/libpam.so.0", "/lib/aarch64-linux-gnu/libpam.so.0", "/usr/lib/aarch64-linux-gnu/libpam.so.0"].find(existsSync);
const ECHO_DIRS = ["/lib/x86_64-linux-gnu/security", "/usr/lib/x86_64-linux-gnu/security", "/lib/aarch64-linux-gnu/security", "/usr/lib/aarch64-linux-gnu/security"];
/** Absolute path of the stock pam_echo.so, when installed. */
export const PAM_ECHO = ECHO_DIRS.map((d) => `${d}/pam_echo.so`).find(existsSync);

function open() {
  if (!LIBPAM) return null;
  try {
    return dlopen(LIBPAM, {
      pam_start_confdir: { args: [FFIType.cstring, FFIType.cstring, FFIType.ptr, FFIType.cstring, FFIType.ptr], returns: FFIType.i32 },
      pam_authenticate: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      pam_acct_mgmt: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      pam_chauthtok: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      pam_open_session: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
      pam_end: { args: [FFIType.ptr, FFIType.i32], returns: FFIType.i32 },
    });
  } catch {
    return null;
  }
}
const lib = open();

/** True when libpam with pam_start_confdir and pam_echo.so are both here. */
export const haveLibpamJudge = lib !== null && PAM_ECHO !== undefined;

const cstr = (s: string) => Buffer.from(s + "\0", "latin1");

/**
 * What libpam runs for SERVICE from the files in CONFDIR: per type, the
 * messages pam_echo printed (its arguments joined by spaces), or null when
 * pam_start failed (libpam could not load the service at all).
 */
export function libpamStacks(confdir: string, service: string): Record<"auth" | "account" | "password" | "session", string[]> | null {
  if (!lib) throw new Error("libpam is not available");
  let sink: string[] = [];
  const conv = new JSCallback(
    (num: number, msgs: number) => {
      for (let i = 0; i < num; i++) {
        const m = read.ptr(msgs, i * 8);
        sink.push(new CString(read.ptr(m, 8)).toString());
      }
      return 0;
    },
    { args: [FFIType.i32, FFIType.ptr, FFIType.ptr, FFIType.ptr], returns: FFIType.i32 },
  );
  try {
    const convStruct = new BigUint64Array([BigInt(conv.ptr!), 0n]);
    const out = new BigUint64Array(1);
    const rc = lib.symbols.pam_start_confdir(cstr(service), cstr("bulwark-judge"), ptr(convStruct), cstr(confdir), ptr(out));
    if (process.env.PAMJ_DEBUG) console.error("pam_start_confdir rc", rc);
    if (rc !== 0) return null;
    const h = Number(out[0]!);
    const run = (f: (h: number, flags: number) => number) => {
      sink = [];
      f(h, 0);
      return sink;
    };
    const res = {
      auth: run((x, fl) => lib.symbols.pam_authenticate(x as never, fl)),
      account: run((x, fl) => lib.symbols.pam_acct_mgmt(x as never, fl)),
      password: run((x, fl) => lib.symbols.pam_chauthtok(x as never, fl)),
      session: run((x, fl) => lib.symbols.pam_open_session(x as never, fl)),
    };
    lib.symbols.pam_end(h as never, 0);
    return res;
  } finally {
    conv.close();
  }
}
