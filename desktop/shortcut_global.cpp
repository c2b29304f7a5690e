#include "shortcut_global.hpp"

#include <dlfcn.h>

#include <QGuiApplication>
#include <initializer_list>

#if __has_include(<xcb/xcb.h>)
#include <xcb/xcb.h>
#define RMM_HAVE_XCB 1
#endif

namespace rmm::desktop {

#ifdef RMM_HAVE_XCB
namespace {

// libxcb's functions, looked up in the process: the xcb platform plugin has
// loaded libxcb when the app runs on X11, and the app itself does not link it
// (so no X11 library is needed to build or to run elsewhere).
struct Xcb {
  decltype(&xcb_get_setup) get_setup = nullptr;
  decltype(&xcb_setup_roots_iterator) roots = nullptr;
  decltype(&xcb_grab_key_checked) grab_key = nullptr;
  decltype(&xcb_ungrab_key) ungrab_key = nullptr;
  decltype(&xcb_request_check) check = nullptr;
  decltype(&xcb_get_keyboard_mapping) mapping = nullptr;
  decltype(&xcb_get_keyboard_mapping_reply) mapping_reply = nullptr;
  decltype(&xcb_get_keyboard_mapping_keysyms) keysyms = nullptr;
  decltype(&xcb_flush) flush = nullptr;

  bool load() {
    auto sym = [](const char* name) { return dlsym(RTLD_DEFAULT, name); };
    get_setup = reinterpret_cast<decltype(get_setup)>(sym("xcb_get_setup"));
    roots = reinterpret_cast<decltype(roots)>(sym("xcb_setup_roots_iterator"));
    grab_key = reinterpret_cast<decltype(grab_key)>(sym("xcb_grab_key_checked"));
    ungrab_key = reinterpret_cast<decltype(ungrab_key)>(sym("xcb_ungrab_key"));
    check = reinterpret_cast<decltype(check)>(sym("xcb_request_check"));
    mapping = reinterpret_cast<decltype(mapping)>(sym("xcb_get_keyboard_mapping"));
    mapping_reply = reinterpret_cast<decltype(mapping_reply)>(sym("xcb_get_keyboard_mapping_reply"));
    keysyms = reinterpret_cast<decltype(keysyms)>(sym("xcb_get_keyboard_mapping_keysyms"));
    flush = reinterpret_cast<decltype(flush)>(sym("xcb_flush"));
    return get_setup && roots && grab_key && ungrab_key && check && mapping && mapping_reply && keysyms &&
           flush;
  }
};

const Xcb& xcb() {
  static Xcb x = [] {
    Xcb v;
    if (!v.load()) v.get_setup = nullptr;
    return v;
  }();
  return x;
}

// Grabs of one key by one X client are one grab: the last GlobalShortcut to go releases it.
int grabs = 0;

constexpr uint16_t kModifiers = XCB_MOD_MASK_CONTROL | XCB_MOD_MASK_1;  // Ctrl+Alt
// Caps Lock and Num Lock (Mod2) must not stop the shortcut: grab with each.
constexpr uint16_t kIgnored[] = {0, XCB_MOD_MASK_LOCK, XCB_MOD_MASK_2, XCB_MOD_MASK_LOCK | XCB_MOD_MASK_2};

}  // namespace
#endif

GlobalShortcut::GlobalShortcut(char key, QObject* parent) : QObject(parent) { grab(key); }

void GlobalShortcut::grab(char key) {
  const QString name = QStringLiteral("Ctrl+Alt+%1").arg(QChar::fromLatin1(key).toUpper());
#ifdef RMM_HAVE_XCB
  auto* x11 = qGuiApp ? qGuiApp->nativeInterface<QNativeInterface::QX11Application>() : nullptr;
  if (!x11 || !x11->connection()) {
    description_ = tr("no global shortcut on %1: only X11 lets an application grab one")
                       .arg(QGuiApplication::platformName());
    return;
  }
  const Xcb& x = xcb();
  if (!x.get_setup) {
    description_ = tr("no global shortcut: libxcb's functions are not found");
    return;
  }
  auto* c = x11->connection();
  const xcb_setup_t* setup = x.get_setup(c);
  root_ = x.roots(setup).data->root;
  // The keycode that types `key` (lower or upper case) in the current layout.
  const xcb_keysym_t lower = static_cast<unsigned char>(QChar::fromLatin1(key).toLower().toLatin1());
  const xcb_keysym_t upper = static_cast<unsigned char>(QChar::fromLatin1(key).toUpper().toLatin1());
  const uint8_t count = setup->max_keycode - setup->min_keycode + 1;
  auto* reply = x.mapping_reply(c, x.mapping(c, setup->min_keycode, count), nullptr);
  if (reply) {
    const xcb_keysym_t* syms = x.keysyms(reply);
    for (int i = 0; i < count && !keycode_; ++i)
      for (int j = 0; j < reply->keysyms_per_keycode; ++j) {
        const auto s = syms[i * reply->keysyms_per_keycode + j];
        if (s == lower || s == upper) {
          keycode_ = setup->min_keycode + i;
          break;
        }
      }
    free(reply);
  }
  if (!keycode_) {
    description_ =
        tr("no global shortcut: no key types %1 in this keyboard layout").arg(QChar::fromLatin1(key));
    return;
  }
  for (uint16_t extra : kIgnored) {
    xcb_generic_error_t* error =
        x.check(c, x.grab_key(c, 1, root_, kModifiers | extra, static_cast<xcb_keycode_t>(keycode_),
                              XCB_GRAB_MODE_ASYNC, XCB_GRAB_MODE_ASYNC));
    if (error) {  // another application holds it
      free(error);
      for (uint16_t undo : kIgnored)
        x.ungrab_key(c, static_cast<xcb_keycode_t>(keycode_), root_, kModifiers | undo);
      x.flush(c);
      keycode_ = 0;
      description_ = tr("no global shortcut: %1 is taken by another application").arg(name);
      return;
    }
  }
  connection_ = c;
  ++grabs;
  description_ = name;
  qApp->installNativeEventFilter(this);
#else
  description_ = tr("no global shortcut: built without xcb headers (%1)").arg(name);
#endif
}

GlobalShortcut::~GlobalShortcut() {
#ifdef RMM_HAVE_XCB
  if (keycode_ && connection_) {
    if (qApp) qApp->removeNativeEventFilter(this);
    if (--grabs > 0) return;
    auto* c = static_cast<xcb_connection_t*>(connection_);
    for (uint16_t extra : kIgnored)
      xcb().ungrab_key(c, static_cast<xcb_keycode_t>(keycode_), root_, kModifiers | extra);
    xcb().flush(c);
  }
#endif
}

bool GlobalShortcut::nativeEventFilter(const QByteArray& type, void* message, qintptr*) {
#ifdef RMM_HAVE_XCB
  if (!keycode_ || type != QByteArrayLiteral("xcb_generic_event_t")) return false;
  const auto* ev = static_cast<const xcb_generic_event_t*>(message);
  if ((ev->response_type & ~0x80) != XCB_KEY_PRESS) return false;
  const auto* key = static_cast<const xcb_key_press_event_t*>(message);
  if (key->detail != keycode_ || (key->state & kModifiers) != kModifiers) return false;
  emit activated();
  return true;
#else
  (void)type;
  (void)message;
  return false;
#endif
}

}  // namespace rmm::desktop
