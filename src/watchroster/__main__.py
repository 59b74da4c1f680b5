from watchroster.cli import main

main()
