from workbench.frontends.cli.main import main

raise SystemExit(main())
