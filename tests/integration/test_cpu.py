# SPDX-License-Identifier: LGPL-2.1-or-later
"""CPU models: the host CPU in <capabilities>, cpu-compare, cpu-baseline,
hypervisor-cpu-compare and hypervisor-cpu-baseline through stock virsh, domus and
python3-libvirt. The answers are checked against QEMU itself (a throwaway QEMU's static
expansions and the unavailable features query-cpu-definitions lists under TCG), not against
numbers written here."""
import json
import re
import subprocess
import xml.etree.ElementTree as ET

import libvirt
import pytest

# libvirt's names of the features QEMU names otherwise (virQEMUCapsCPUFeaturesX86)
RENAMED = {"cmp-legacy": "cmp_legacy", "ds-cpl": "ds_cpl", "fxsr-opt": "fxsr_opt",
           "lahf-lm": "lahf_lm", "nodeid-msr": "nodeid_msr", "pclmulqdq": "pclmuldq",
           "perfctr-core": "perfctr_core", "perfctr-nb": "perfctr_nb",
           "tsc-adjust": "tsc_adjust"}


@pytest.fixture(scope="module")
def qemu():
    """What a throwaway TCG QEMU says: {model: (enabled features, unavailable features)}, the
    features of "max" and every feature name it has, in libvirt's names."""
    p = subprocess.Popen(["qemu-system-x86_64", "-machine", "none", "-accel", "tcg",
                          "-nodefaults", "-display", "none", "-qmp", "stdio"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def cmd(name, args=None):
        p.stdin.write(json.dumps({"execute": name, "arguments": args or {}}) + "\n")
        p.stdin.flush()
        while True:
            r = json.loads(p.stdout.readline())
            if "return" in r or "error" in r:
                return r.get("return")

    p.stdout.readline()
    cmd("qmp_capabilities")
    names = lambda props: {RENAMED.get(k, k) for k, v in props.items() if v is True}
    models = {}
    for d in cmd("query-cpu-definitions"):
        if d["name"] in ("host", "max", "base") or re.search(r"-v\d+$", d["name"]):
            continue
        props = cmd("query-cpu-model-expansion",
                    {"type": "static", "model": {"name": d["name"]}})["model"]["props"]
        models[d["name"]] = (names(props) - {"hypervisor"},
                             {RENAMED.get(f, f) for f in d["unavailable-features"]})
    props = cmd("query-cpu-model-expansion",
                {"type": "static", "model": {"name": "max"}})["model"]["props"]
    known = {RENAMED.get(k, k) for k, v in props.items() if isinstance(v, bool)}
    cmd("quit")
    p.wait(timeout=30)
    return models, names(props), known


def host_flags(known):
    """The host's /proc/cpuinfo flags that QEMU names, in libvirt's names. Linux's synthetic
    ibrs, ibpb, stibp and ssbd stand for different bits on Intel and AMD; nonstop_tsc is
    invtsc."""
    info = open("/proc/cpuinfo").read()
    flags = info.split("\nflags", 1)[1].split("\n", 1)[0].split(":", 1)[1].split()
    amd = re.search(r"^vendor_id\s*:\s*(AuthenticAMD|HygonGenuine)", info, re.M) is not None
    synthetic = ({"ibrs": "ibrs", "ibpb": "ibpb", "stibp": "amd-stibp", "ssbd": None} if amd else
                 {"ibrs": "spec-ctrl", "ibpb": "spec-ctrl", "stibp": "stibp", "ssbd": "ssbd"})
    synthetic.update({"nonstop_tsc": "invtsc", "tsc_deadline_timer": "tsc-deadline",
                      "pclmulqdq": "pclmuldq"})
    canon = lambda n: re.sub(r"[-_.]", "", n).lower()
    by_canon = {canon(k): k for k in known}
    named = [synthetic.get(f, f) for f in flags]
    return {by_canon[canon(f)] for f in named if f and canon(f) in by_canon}


def features(xml, policy=None):
    root = ET.fromstring(xml)
    return {f.get("name") for f in root.findall("feature")
            if policy is None or f.get("policy") == policy}


def test_host_cpu_in_capabilities(daemon, qemu):
    """The host <cpu> names a model whose features (QEMU's own expansion of it) and the listed
    extra features are exactly the host's CPUID flags QEMU knows."""
    models, mx, known = qemu
    caps = ET.fromstring(daemon.conn().getCapabilities())
    cpu = caps.find("host/cpu")
    model = cpu.find("model").text
    assert model in models
    listed = {f.get("name") for f in cpu.findall("feature")}
    want = host_flags(known)
    assert models[model][0] | listed == want
    assert not listed & models[model][0], "a feature the model has is not listed again"


def test_compare_against_qemu(daemon, qemu):
    """compareHypervisorCPU of every model: incompatible exactly when QEMU says TCG cannot give
    it all, naming the features QEMU names; the hypervisor baseline of a model disables the
    same ones. compareCPU of the host's own CPU is identical."""
    models, mx, known = qemu
    c = daemon.conn()
    fail = libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE
    for name, (have, missing) in sorted(models.items()):
        xml = f"<cpu><model>{name}</model></cpu>"
        result = c.compareHypervisorCPU(None, None, None, None, xml, 0)
        if missing:
            assert result == libvirt.VIR_CPU_COMPARE_INCOMPATIBLE, name
            with pytest.raises(libvirt.libvirtError) as e:
                c.compareHypervisorCPU(None, None, None, None, xml, fail)
            assert e.value.get_error_code() == libvirt.VIR_ERR_CPU_INCOMPATIBLE
            said = str(e.value).split("required features: ", 1)[1]
            assert set(said.split(", ")) == missing, (name, said)
            base = c.baselineHypervisorCPU(None, None, None, None, [xml], 0)
            assert features(base, "disable") == missing, (name, base)
        else:
            assert result in (libvirt.VIR_CPU_COMPARE_IDENTICAL,
                              libvirt.VIR_CPU_COMPARE_SUPERSET), name
            assert have <= mx
    # domain capabilities' host-model is TCG's max as a model: its features with the added and
    # without the disabled ones are exactly max's, and comparing it is identical
    mode = ET.fromstring(c.getDomainCapabilities(None, None, None, None, 0)).find(
        "cpu/mode[@name='host-model']")
    assert mode.get("supported") == "yes"
    hm = ET.tostring(mode, encoding="unicode").replace("<mode", "<cpu", 1).rsplit("</mode>", 1)[0]
    hm = re.sub(r"<cpu [^>]*>", "<cpu>", hm, count=1) + "</cpu>"
    have = models[mode.find("model").text][0] | features(hm, "require")
    assert have - features(hm, "disable") == mx
    assert c.compareHypervisorCPU(None, None, None, None, hm, 0) == \
        libvirt.VIR_CPU_COMPARE_IDENTICAL
    caps = ET.fromstring(c.getCapabilities())
    host = ET.tostring(caps.find("host/cpu"), encoding="unicode")
    assert c.compareCPU(host, 0) == libvirt.VIR_CPU_COMPARE_IDENTICAL
    # expanded, the host CPU's baseline is its features, all of them
    expanded = c.baselineCPU([host], libvirt.VIR_CONNECT_BASELINE_CPU_EXPAND_FEATURES)
    assert features(expanded, "require") == host_flags(known)
    # a read-only connection may not (libvirt's virCheckReadOnly)
    ro = daemon.conn(readonly=True)
    with pytest.raises(libvirt.libvirtError) as e:
        ro.compareHypervisorCPU(None, None, None, None, "<cpu><model>qemu64</model></cpu>", 0)
    assert e.value.get_error_code() == libvirt.VIR_ERR_OPERATION_DENIED
    ro.close()
    c.close()


def test_cpu_commands_as_virsh(daemon):
    """The four commands print what virsh prints, for files of bare CPUs, a domain, the host's
    capabilities and domain capabilities; bad input is refused alike."""
    d = daemon.write
    files = {
        "w": d("w.xml", "<cpu><model>Westmere</model></cpu>"),
        "two": d("two.xml", "<cpu><arch>x86_64</arch><model>Westmere</model>"
                            "<vendor>Intel</vendor><feature name='avx'/></cpu>\n"
                            "<cpu><arch>x86_64</arch><model>Nehalem</model><vendor>Intel</vendor>"
                            "<feature name='aes'/><feature name='avx'/></cpu>\n"),
        "mixed": d("mixed.xml", "<cpu><arch>x86_64</arch><model>Penryn</model>"
                                "<vendor>Intel</vendor></cpu><cpu><arch>x86_64</arch>"
                                "<model>Opteron_G3</model><vendor>AMD</vendor></cpu>"),
        "strict": d("strict.xml", "<cpu match='strict'><model>qemu64</model></cpu>"),
        "forbid": d("forbid.xml", "<cpu><model>qemu64</model>"
                                  "<feature policy='forbid' name='sse2'/></cpu>"),
        "unknown": d("unknown.xml", "<cpu><model>Nosuch</model></cpu>"),
        "none": d("none.xml", "<foo/>"),
        "caps": d("caps.xml", daemon.virsh("capabilities").stdout),
        "domcaps": d("domcaps.xml", daemon.virsh("domcapabilities").stdout),
        "domain": d("dom.xml", "<domain type='qemu'><name>x</name><cpu><model>Nehalem</model>"
                               "</cpu></domain>"),
    }
    runs = [["cpu-compare", files["w"]], ["cpu-compare", "--error", files["w"]],
            ["cpu-compare", files["caps"]], ["cpu-compare", files["domain"]],
            ["cpu-baseline", files["two"]], ["cpu-baseline", "--features", files["w"]],
            ["cpu-baseline", "--migratable", files["caps"]], ["cpu-baseline", files["mixed"]],
            ["cpu-baseline", files["none"]], ["cpu-baseline", files["unknown"]],
            ["cpu-baseline", "/nonexistent.xml"],
            ["hypervisor-cpu-compare", files["w"]], ["hypervisor-cpu-compare", files["strict"]],
            ["hypervisor-cpu-compare", "--error", files["strict"]],
            ["hypervisor-cpu-compare", "--error", files["forbid"]],
            ["hypervisor-cpu-compare", "--error", files["caps"]],
            ["hypervisor-cpu-compare", files["domcaps"]],
            ["hypervisor-cpu-compare", "--virttype", "kvm", files["w"]],
            ["hypervisor-cpu-compare", "--arch", "ppc64", files["w"]],
            ["hypervisor-cpu-baseline", files["two"]],
            ["hypervisor-cpu-baseline", "--model", "Skylake-Client"],
            ["hypervisor-cpu-baseline", "--features", "--model", "Westmere"],
            ["hypervisor-cpu-baseline", "--model", "Westmere", "--file", files["w"]],
            ["hypervisor-cpu-baseline"]]
    for args in runs:
        v, m = daemon.virsh(*args, check=False), daemon.domus(*args, check=False)
        assert (m.stdout, m.stderr, m.returncode) == (v.stdout, v.stderr, v.returncode), args
    out = daemon.virsh("cpu-baseline", files["two"]).stdout
    assert "<model fallback='allow'>Nehalem</model>" in out
    assert features(out, "require") == {"aes", "avx"}
    r = daemon.virsh("cpu-baseline", files["mixed"], check=False)
    assert r.returncode == 1 and "CPU vendors do not match" in r.stderr
    r = daemon.virsh("hypervisor-cpu-compare", "--error", files["forbid"], check=False)
    assert "Host CPU provides forbidden features: sse2" in r.stderr


def test_domain_cpu_checks(daemon):
    """A domain's <cpu> features: a name QEMU would misread is refused at define, one QEMU does
    not know too; a feature TCG cannot give is refused at start (not dropped as QEMU drops it)
    unless check='none'; features without a model go on qemu64; a saved guest's features and
    topology are part of what a replacement definition may not change."""
    from conftest import domain_xml
    c = daemon.conn()

    uuid = "7c0a9f1e-2b3d-4c5e-8f60-718293a4b5c6"

    def cpu(body, check=""):
        return domain_xml("cpuchk", uuid=uuid, extra=f"<cpu mode='custom'{check}>{body}</cpu>")

    for body, code, words in (
            ("<feature name='sse4.1,x-inject=on'/>", libvirt.VIR_ERR_XML_ERROR,
             "invalid CPU feature name"),
            ("<model>qemu64</model><feature name='osxsave'/>", libvirt.VIR_ERR_CONFIG_UNSUPPORTED,
             "'osxsave' is not known")):
        with pytest.raises(libvirt.libvirtError) as e:
            c.defineXML(cpu(body))
        assert e.value.get_error_code() == code and words in str(e.value), str(e.value)
    assert "cpuchk" not in [d.name() for d in c.listAllDomains()]
    d = c.defineXML(cpu("<model>qemu64</model><feature policy='require' name='avx512f'/>"))
    with pytest.raises(libvirt.libvirtError) as e:
        d.create()
    assert e.value.get_error_code() == libvirt.VIR_ERR_CPU_INCOMPATIBLE
    assert "required features: avx512f" in str(e.value)
    assert not d.isActive()
    d = c.defineXML(cpu("<model>qemu64</model><feature policy='require' name='avx512f'/>",
                        " check='none'"))
    d.create()
    d.destroy()
    # no model: QEMU's default model carries the features
    d = c.defineXML(cpu("<feature policy='require' name='ssse3'/>"
                        "<feature policy='disable' name='svm'/>"))
    d.create()
    log = open(f"{daemon.root}/log/cpuchk.log").read()
    assert "-cpu qemu64,ssse3=on,svm=off" in log
    # a replacement definition may not change the features or topology of a saved guest
    path = f"{daemon.root}/cpuchk.save"
    live = d.XMLDesc(libvirt.VIR_DOMAIN_XML_SECURE | libvirt.VIR_DOMAIN_XML_MIGRATABLE)
    topology = re.sub(r"(<cpu [^>]*>)", r"\1<topology sockets='1' dies='1' cores='1' "
                      r"threads='1'/>", live, count=1)
    for changed, what in ((live.replace("name='svm'", "name='sse4a'"), "CPU model or features"),
                          (topology, "CPU topology")):
        assert changed != live
        with pytest.raises(libvirt.libvirtError) as e:
            d.saveFlags(path, changed, 0)
        assert what in str(e.value), str(e.value)
        assert d.isActive()
    d.destroy()
    d.undefine()
    c.close()
