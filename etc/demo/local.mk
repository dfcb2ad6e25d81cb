# etc/demo: what ./quickstart demo runs (tools/circd-demo)
EXTRA_DIST += etc/demo/demo.scn etc/demo/acs-demo.json etc/demo/demo.conf.in tools/circd-demo
