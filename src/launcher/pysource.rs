//! Reading Python sources and config files without running Python: what a
//! module binds at its top level, a factory's signature, the
//! `DJANGO_SETTINGS_MODULE` a `manage.py` sets, an ini file's sections.
//! Good enough for the layouts people use; anything cleverer reads as "not
//! found", and the caller says so or asks Python. The files are read with
//! [`app_file::read_source`](super::app_file::read_source).

use std::sync::LazyLock;

use regex::Regex;

static IMPORT_FROM_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^from\s+[\w.]+\s+import\s+(.*)$").expect("regex"));
static IMPORT_AS_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^import\s+[\w.]+\s+as\s+(\w+)\s*$").expect("regex"));

/// Whether the module binds `name` at its top level: an assignment (also
/// annotated), a `def`/`class`, or an import (`from x import name`,
/// `from x import y as name`, `import x as name`). Read without Python.
pub fn module_binds(text: &str, name: &str) -> bool {
    let n = regex::escape(name);
    let direct = Regex::new(&format!(
        r"^(?:(?:async\s+)?def\s+{n}\s*\(|class\s+{n}\b|{n}\s*(?::[^=]*)?=[^=])"
    ))
    .expect("regex");
    let lines: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        i += 1;
        if direct.is_match(line) {
            return true;
        }
        if let Some(c) = IMPORT_AS_RE.captures(line.trim_end()) {
            if &c[1] == name {
                return true;
            }
        }
        let Some(c) = IMPORT_FROM_RE.captures(line) else {
            continue;
        };
        let mut names = c[1].split('#').next().unwrap_or("").to_string();
        if names.contains('(') && !names.contains(')') {
            while i < lines.len() {
                let more = lines[i].split('#').next().unwrap_or("");
                i += 1;
                names.push_str(more);
                if more.contains(')') {
                    break;
                }
            }
        }
        let names = names.replace(['(', ')', '\\'], " ");
        for item in names.split(',') {
            let words: Vec<&str> = item.split_whitespace().collect();
            let bound = match words.as_slice() {
                [one] => *one,
                [_, "as", alias] => *alias,
                _ => continue,
            };
            if bound == name {
                return true;
            }
        }
    }
    false
}

/// Whether `def NAME(` at the top level takes no argument, or only ones
/// with defaults (judged by the first one).
pub fn no_argument_factory(text: &str, name: &str) -> bool {
    let re = Regex::new(&format!(
        r"(?m)^def\s+{}\s*\(\s*(?:\)|\w+\s*(?::[^=,)]*)?=)",
        regex::escape(name)
    ))
    .expect("regex");
    re.is_match(text)
}

/// What a `manage.py` says about `DJANGO_SETTINGS_MODULE`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SettingsDefault {
    /// Nothing: not a Django `manage.py`.
    None,
    /// A `setdefault`/assignment outside any condition: the default.
    Always(String),
    /// Only inside an `if`/`else`/`try`/loop: chosen at run time, so no
    /// default (line number of the first one, 1-based).
    Conditional(usize),
}

static SETTINGS_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#"DJANGO_SETTINGS_MODULE['"]\s*[\],]\s*=?\s*['"]([A-Za-z_][\w.]*)['"]"#)
        .expect("regex")
});
static BLOCK_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(if|elif|else|for|while|try|except|finally|with|match|case)\b").expect("regex")
});

/// `if __name__ == "__main__":`, the guard every `manage.py` runs through:
/// not a condition (Django's startproject wrote the setdefault under it
/// before 2.0, and the seed's example repositories still have it).
static MAIN_GUARD_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"^if\s*\(?\s*(?:__name__\s*==\s*['"]__main__['"]|['"]__main__['"]\s*==\s*__name__)\s*\)?\s*:"#,
    )
    .expect("regex")
});

/// The settings module `manage.py` sets by default: a
/// `os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')` (or an
/// assignment) at the module's or a function's top level, or under
/// `if __name__ == "__main__":`. One inside any other condition is not a
/// default.
pub fn settings_default(text: &str) -> SettingsDefault {
    let lines: Vec<&str> = text.lines().collect();
    let mut conditional = None;
    for (n, line) in lines.iter().enumerate() {
        let Some(c) = SETTINGS_RE.captures(line) else {
            continue;
        };
        if line.trim_start().starts_with('#') {
            continue;
        }
        let mut indent = indentation(line);
        let mut inside_condition = false;
        for above in lines[..n].iter().rev() {
            let t = above.trim_start();
            if t.is_empty() || t.starts_with('#') {
                continue;
            }
            let i = indentation(above);
            if i < indent {
                indent = i;
                if BLOCK_RE.is_match(t) && !MAIN_GUARD_RE.is_match(t) {
                    inside_condition = true;
                    break;
                }
            }
            if i == 0 {
                break;
            }
        }
        if inside_condition {
            conditional.get_or_insert(n + 1);
        } else {
            return SettingsDefault::Always(c[1].to_string());
        }
    }
    match conditional {
        Some(n) => SettingsDefault::Conditional(n),
        None => SettingsDefault::None,
    }
}

fn indentation(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// Whether an ini file's text has the section `[name]`.
pub fn has_section(text: &str, name: &str) -> bool {
    text.lines()
        .any(|l| l.trim().strip_prefix('[').and_then(|r| r.strip_suffix(']')) == Some(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_bindings_are_read_without_python() {
        let binds = |text: &str, name: &str| module_binds(text, name);
        assert!(binds("app = Flask(__name__)\n", "app"));
        assert!(binds("app: Flask = make()\n", "app"));
        assert!(binds(
            "def application(environ, start):\n    pass\n",
            "application"
        ));
        assert!(binds("from hello import app\n", "app"));
        assert!(binds(
            "from hello import create, app as application\n",
            "application"
        ));
        assert!(binds("from hello import (\n    x,\n    app,\n)\n", "app"));
        assert!(binds("import hello.wsgi as application\n", "application"));
        assert!(!binds("    app = 1\n", "app"));
        assert!(!binds("app == 1\n", "app"));
        assert!(!binds("application = 1\n", "app"));
        assert!(!binds("from app import thing\n", "app"));
    }

    #[test]
    fn settings_defaults_outside_conditions_only() {
        let startproject = "import os\nimport sys\n\n\ndef main():\n    \"\"\"Run.\"\"\"\n    \
            os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hello.settings')\n    try:\n        \
            from django.core.management import execute_from_command_line\n    except ImportError:\n        raise\n";
        assert_eq!(
            settings_default(startproject),
            SettingsDefault::Always("hello.settings".into())
        );
        let conditional = "import os\nif os.environ.get('ENV') == 'prod':\n    \
            os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"p.settings.prod\")\nelse:\n    \
            os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"p.settings.dev\")\n";
        assert_eq!(
            settings_default(conditional),
            SettingsDefault::Conditional(3)
        );
        let in_main =
            "def main():\n    if True:\n        os.environ['DJANGO_SETTINGS_MODULE'] = 'a.b'\n";
        assert_eq!(settings_default(in_main), SettingsDefault::Conditional(3));
        // Django < 2.0's startproject, and the seed's example repositories.
        let guarded = "import os\nimport sys\n\nif __name__ == \"__main__\":\n    \
            os.environ.setdefault(\"DJANGO_SETTINGS_MODULE\", \"hello_world.settings\")\n\n    \
            from django.core.management import execute_from_command_line\n";
        assert_eq!(
            settings_default(guarded),
            SettingsDefault::Always("hello_world.settings".into())
        );
        let single =
            "if '__main__' == __name__:\n    os.environ['DJANGO_SETTINGS_MODULE'] = 'a.b'\n";
        assert_eq!(
            settings_default(single),
            SettingsDefault::Always("a.b".into())
        );
        let nested = "if __name__ == '__main__':\n    if os.environ.get('X'):\n        \
            os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'a.b')\n";
        assert_eq!(settings_default(nested), SettingsDefault::Conditional(3));
        let other =
            "if __name__ == '__main__' and X:\n    os.environ['DJANGO_SETTINGS_MODULE'] = 'a.b'\n";
        assert_eq!(settings_default(other), SettingsDefault::Conditional(2));
        let assigned = "os.environ['DJANGO_SETTINGS_MODULE'] = 'a.settings'\n";
        assert_eq!(
            settings_default(assigned),
            SettingsDefault::Always("a.settings".into())
        );
        assert_eq!(settings_default("print(1)\n"), SettingsDefault::None);
        assert_eq!(
            settings_default("# os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'x')\n"),
            SettingsDefault::None
        );
    }

    #[test]
    fn ini_sections() {
        assert!(has_section(
            "[DEFAULT]\n[app:main]\nuse = egg:x\n",
            "app:main"
        ));
        assert!(!has_section("[app:other]\n", "app:main"));
    }
}
