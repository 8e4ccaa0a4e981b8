/**
 * A readable device from a User-Agent ("Firefox 133 · Linux", "Safari 17 · iPhone"), for the sessions
 * page. Only the common browsers and systems are named; anything else is shown as "other".
 */
export interface Device {
  /** e.g. Chrome 131, Firefox 133, Safari 17, Edge 131, Opera 114, Yandex Browser 24; '' when unknown. */
  browser: string;
  /** e.g. Windows, macOS, Linux, Android 14, iPhone, iPad, ChromeOS; '' when unknown. */
  os: string;
}

const major = (ua: string, re: RegExp): string => {
  const m = re.exec(ua);
  return m ? m[1].split('.')[0] : '';
};
const named = (name: string, version: string) => (version ? `${name} ${version}` : name);

function browserOf(ua: string): string {
  // Order matters: Edge, Opera and Yandex also say "Chrome"; Chrome also says "Safari".
  if (/YaBrowser\//.test(ua)) return named('Yandex Browser', major(ua, /YaBrowser\/([\d.]+)/));
  if (/Edg(e|A|iOS)?\//.test(ua)) return named('Edge', major(ua, /Edg(?:e|A|iOS)?\/([\d.]+)/));
  if (/OPR\/|Opera/.test(ua)) return named('Opera', major(ua, /(?:OPR|Version)\/([\d.]+)/));
  if (/Firefox\/|FxiOS\//.test(ua)) return named('Firefox', major(ua, /(?:Firefox|FxiOS)\/([\d.]+)/));
  if (/Chrome\/|CriOS\//.test(ua) && !/Chromium\//.test(ua)) return named('Chrome', major(ua, /(?:Chrome|CriOS)\/([\d.]+)/));
  if (/Chromium\//.test(ua)) return named('Chromium', major(ua, /Chromium\/([\d.]+)/));
  if (/Safari\//.test(ua)) return named('Safari', major(ua, /Version\/([\d.]+)/));
  if (/^curl\//.test(ua)) return named('curl', major(ua, /^curl\/([\d.]+)/));
  return '';
}

function osOf(ua: string): string {
  if (/iPhone/.test(ua)) return 'iPhone';
  if (/iPad/.test(ua)) return 'iPad';
  if (/Android/.test(ua)) return named('Android', major(ua, /Android ([\d.]+)/));
  if (/CrOS/.test(ua)) return 'ChromeOS';
  if (/Windows/.test(ua)) return 'Windows';
  if (/Mac OS X|Macintosh/.test(ua)) return 'macOS';
  if (/Linux|X11/.test(ua)) return 'Linux';
  return '';
}

export function deviceOf(userAgent: string): Device {
  const ua = userAgent.slice(0, 512);
  return { browser: browserOf(ua), os: osOf(ua) };
}
