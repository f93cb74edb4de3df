/* ringproxy's version, defined once (the build may override it with -DRP_VERSION=...). */
#ifndef RP_VERSION_H
#define RP_VERSION_H

#ifndef RP_VERSION
#define RP_VERSION "0.1.0"
#endif

#endif
