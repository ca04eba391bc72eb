# Stays up until the host shuts the domain down or reboots it.
echo "DOMUS-READY $(uname -r)"
while :; do sleep 3600; done
