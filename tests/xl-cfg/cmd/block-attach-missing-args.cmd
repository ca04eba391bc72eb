block-attach
1
