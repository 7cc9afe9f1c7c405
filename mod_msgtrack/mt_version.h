/**
 * @file mt_version.h
 * @brief Version of mod_msgtrack and of the Exchange schema it announces.
 */
#ifndef MT_VERSION_H
#define MT_VERSION_H

#define MT_VERSION_STRING "0.1.0"
#define MT_VERSION_MAJOR 0
#define MT_VERSION_MINOR 1
#define MT_VERSION_PATCH 0

/** What the ServerVersionInfo header announces: the schema revision of
 *  MS-OXWSMTRK v3.0 (Exchange 2010 SP1), which is what we implement. */
#define MT_SERVER_VERSION_NAME   "Exchange2010_SP1"
#define MT_SERVER_MAJOR_VERSION  14
#define MT_SERVER_MINOR_VERSION  1

#endif
